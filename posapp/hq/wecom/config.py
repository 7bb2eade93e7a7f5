"""WeCom settings from the environment (``POSAPP_HQ_WECOM_*``), validated at start.

The secret, the callback token and the EncodingAESKey are ``SecretStr``: printed or
logged they show as ``**********``; only the gateway and the callback crypto read them.
"""

from __future__ import annotations

import base64
import binascii

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WECOM_API = "https://qyapi.weixin.qq.com/cgi-bin/"


class WeComSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSAPP_HQ_WECOM_", extra="ignore")

    # Unset corp id: WeCom is off, and nothing at HQ calls it.
    corp_id: str = ""
    # The secret of the app that holds the customer-contact permission (客户联系).
    secret: SecretStr = SecretStr("")
    # The callback's Token and EncodingAESKey (43 characters), as set in the admin console.
    callback_token: SecretStr = SecretStr("")
    encoding_aes_key: SecretStr = SecretStr("")
    # WeCom's API root; a test or the demo points it at the fake (posapp.hq.wecom.fake).
    api_base_url: str = WECOM_API
    # Seconds a WeCom call may take before it counts as failed, and how often it is retried
    # (45009 "too many calls", -1 "system busy", a broken connection) with doubling waits.
    timeout_s: float = 5.0
    retries: int = 3
    backoff_s: float = 0.5
    # The access token is renewed this long before WeCom's expiry.
    token_refresh_early_s: int = 300
    # What the customer gets when they add a guide; walk-ins also get their join link.
    welcome_text: str = Field(default="", max_length=1000)
    join_link_title: str = Field(default="Join us / 加入会员", max_length=128)
    # The join page of an invite, for a walk-in's welcome (HQ's /j/<token>, as the brand serves it).
    join_url: str = "https://m.example.cn/j/{token}"
    # HQ's worker lets a burst of callbacks pass before processing: this long without one,
    # but never longer than the lag (a WelcomeCode lasts 20 s).
    worker_quiet_s: float = Field(default=0.2, ge=0.0, le=5.0)
    worker_max_lag_s: float = Field(default=2.0, ge=0.0, le=15.0)

    @field_validator("api_base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if key:
            try:
                raw = base64.b64decode(key + "=", validate=True)
            except binascii.Error:
                raw = b""
            if len(key) != 43 or len(raw) != 32:
                raise ValueError("EncodingAESKey is 43 characters of base64 (a 32-byte key)")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.corp_id and self.secret.get_secret_value())
