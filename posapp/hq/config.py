"""HQ configuration from the environment (``POSAPP_HQ_*``), validated at start."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from posapp.hq.proxies import Network, parse_networks


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("posapp", appauthor=False)) / "hq"


class HqSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSAPP_HQ_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    master_key: SecretStr | None = None
    rate_limit_per_minute: int = 1200
    register_limit_per_minute: int = 30
    # Member look-ups by full phone or code, per counter: a till recognises customers, it
    # does not look up hundreds of strangers a minute.
    lookup_limit_per_minute: int = 30
    max_body_bytes: int = 4 * 1024 * 1024
    device_code_minutes: int = 24 * 60
    page_limit: int = 1000
    clock_skew_warn_s: int = 300
    # Pushed events are applied behind the acknowledgement, once pushes pause this long, or
    # when the oldest waiting one has waited the lag (a steady stream never starves it).
    apply_quiet_seconds: float = 0.3
    apply_max_lag_seconds: float = 10.0
    # A counter's pull waits at most this long for its own events to be applied; then 503.
    apply_wait_seconds: float = 20.0
    log_level: str = "info"
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto HQ believes (IPs or CIDRs,
    # comma-separated). Empty: the client address is the TCP peer's, whatever headers say.
    trusted_proxies: str = ""
    # The customer's join page (/j/<token>): what it calls the brand, how often one address
    # may load or post it, and which SMS sender proves phone ownership ("file" writes codes
    # to sms-outbox.jsonl in the data dir: development and demos only).
    # The brand as customers know it (the page adds 会员 itself); unset, the page says only
    # 加入会员 / "Join us": a customer never sees the name of the software behind it.
    brand_name: str = Field(default="", max_length=32)
    join_limit_per_minute: int = 60
    sms_sender: str = "file"
    sms_code_minutes: int = 5
    sms_resend_seconds: int = 30
    sms_per_phone_per_hour: int = 5
    sms_per_invite: int = 5
    sms_max_tries: int = 5
    # A member's referral QR serves many friends: codes are limited per friend's phone (as
    # any) and per QR per day, not per QR for its whole year.
    sms_per_referral_per_day: int = 30

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # refused at start, not on the first request
        return value

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'hq.db'}"

    def master_key_bytes(self) -> bytes:
        """HQ's master key: from the environment, or made once and kept 0600 in the data dir.

        Several HQ processes on one database must share it: set POSAPP_HQ_MASTER_KEY.
        """
        if self.master_key is not None:
            return self.master_key.get_secret_value().encode()
        path = self.data_dir / "master.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip().encode()
