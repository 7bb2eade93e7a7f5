"""The WeCom API behind a small interface of ours, on wechatpy's enterprise client.

``WeComGateway`` is what HQ's WeCom code calls; ``SdkGateway`` is the real one (pointed
at the fake WeCom in tests and the demo through ``api_base_url``). Every call has a
timeout and is retried with doubling waits on 45009 / -1 / a broken connection / an
answer that is not JSON; a refusal becomes ``WeComRefused`` with a rule of ours, and
anything else ``WeComUnavailable``. Tokens come from the shared ``TokenKeeper``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.errors import RETRYABLE, TOKEN_REFUSED, WeComRefused, WeComUnavailable
from posapp.hq.wecom.tokens import Sessions, TokenKeeper, token_key

log = logging.getLogger(__name__)
TRANSFER_BATCH = 100  # customers per transfer call (transfer_customer, path 92125)


class _RedactQuery(logging.Filter):
    """urllib3 logs request lines at debug level; the token and secret ride in the query."""

    _SECRET = re.compile(r"(access_token|corpsecret)=[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                self._SECRET.sub(r"\1=***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactQuery())


@dataclass(frozen=True, slots=True)
class ContactWay:
    config_id: str
    qr_code: str


@dataclass(frozen=True, slots=True)
class ExternalContact:
    external_userid: str
    unionid: str | None
    follow_userids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CustomerResult:
    """WeCom's answer for one customer of a transfer call (0: the 24 h wait has begun)."""

    external_userid: str
    errcode: int


@dataclass(frozen=True, slots=True)
class TransferState:
    """``status``: 1 taken over, 2 waiting, 3 refused by the customer, 4 takeover guide
    full, 5 no such transfer (transfer_result, path 94088)."""

    external_userid: str
    status: int
    takeover_time: int | None


@dataclass(frozen=True, slots=True)
class WelcomeLink:
    title: str
    url: str


class WeComGateway(Protocol):
    def add_contact_way(self, userid: str, state: str, remark: str = "") -> ContactWay: ...
    def del_contact_way(self, config_id: str) -> None: ...
    def list_contact_ways(self, start_time: int, end_time: int) -> list[str]: ...
    def external_contact(self, external_userid: str) -> ExternalContact: ...
    def send_welcome(self, welcome_code: str, text: str, link: WelcomeLink | None) -> None: ...
    def transfer_customers(
        self, handover: str, takeover: str, external_userids: list[str], *, resigned: bool = False
    ) -> list[CustomerResult]: ...
    def transfer_results(
        self, handover: str, takeover: str, *, resigned: bool = False
    ) -> list[TransferState]: ...


class _Client(WeChatClient):  # type: ignore[misc]
    """wechatpy's client with our API root and our shared token (its own retry is off)."""

    def __init__(self, settings: WeComSettings) -> None:
        super().__init__(
            settings.corp_id,
            settings.secret.get_secret_value(),
            timeout=settings.timeout_s,
            auto_retry=False,
        )
        self.API_BASE_URL = settings.api_base_url
        self.tokens: TokenKeeper | None = None
        self.used = threading.local()

    @property
    def access_token(self) -> str:
        assert self.tokens is not None
        token = self.tokens.current()
        self.used.token = token
        return token


class SdkGateway:
    def __init__(
        self,
        settings: WeComSettings,
        sessions: Sessions,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._client = _Client(settings)
        secret = settings.secret.get_secret_value()
        self.tokens = TokenKeeper(
            sessions,
            token_key(settings.corp_id, secret),
            self._fetch_token,
            refresh_early_s=settings.token_refresh_early_s,
        )
        self._client.tokens = self.tokens

    def _fetch_token(self) -> tuple[str, int]:
        secret = self._settings.secret.get_secret_value()
        # A list, not a dict: the SDK then adds no access token to the gettoken call itself.
        query = [("corpid", self._settings.corp_id), ("corpsecret", secret)]
        answer = self._attempts("gettoken", lambda: self._client.get("gettoken", params=query))
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeComUnavailable("gettoken answered no token")
        return token, int(answer.get("expires_in", 7200))

    def _attempts(self, what: str, call: Callable[[], Any]) -> dict[str, Any]:
        settings = self._settings
        token_renewed = False
        reason = ""
        attempt = 0
        while attempt <= settings.retries:
            try:
                answer = call()
            except WeChatClientException as exc:
                code = exc.errcode
                if code in TOKEN_REFUSED and not token_renewed:
                    token_renewed = True
                    self.tokens.refused(getattr(self._client.used, "token", ""))
                    continue
                if code is not None and code not in RETRYABLE:
                    raise WeComRefused(int(code), str(exc.errmsg or "")) from None
                reason = f"errcode {code}" if code is not None else "HTTP error"
            except requests.RequestException as exc:
                reason = type(exc).__name__
            else:
                if isinstance(answer, dict):
                    return answer
                reason = "an answer that is not JSON"
            attempt += 1
            if attempt <= settings.retries:
                self._sleep(settings.backoff_s * 2 ** (attempt - 1))
        log.warning("WeCom %s failed %d times (%s)", what, attempt, reason)
        raise WeComUnavailable(f"WeCom {what}: {reason}")

    def _post(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        return self._attempts(endpoint, lambda: self._client.post(endpoint, data=data))

    def add_contact_way(self, userid: str, state: str, remark: str = "") -> ContactWay:
        api = self._client.external_contact
        answer = self._attempts(
            "add_contact_way",
            lambda: api.add_contact_way(
                type=1, scene=2, state=state, user=[userid], remark=remark or None
            ),
        )
        return ContactWay(str(answer["config_id"]), str(answer.get("qr_code", "")))

    def del_contact_way(self, config_id: str) -> None:
        api = self._client.external_contact
        self._attempts("del_contact_way", lambda: api.del_contact_way(config_id))

    def list_contact_ways(self, start_time: int, end_time: int) -> list[str]:
        found: list[str] = []
        cursor = ""
        while True:
            answer = self._post(
                "externalcontact/list_contact_way",
                {"start_time": start_time, "end_time": end_time, "cursor": cursor, "limit": 1000},
            )
            found += [str(way["config_id"]) for way in answer.get("contact_way", [])]
            cursor = str(answer.get("next_cursor") or "")
            if not cursor:
                return found

    def external_contact(self, external_userid: str) -> ExternalContact:
        api = self._client.external_contact
        answer = self._attempts("externalcontact/get", lambda: api.get(external_userid))
        contact = answer.get("external_contact", {})
        return ExternalContact(
            external_userid=str(contact.get("external_userid", external_userid)),
            unionid=contact.get("unionid") or None,
            follow_userids=tuple(str(f["userid"]) for f in answer.get("follow_user", [])),
        )

    def send_welcome(self, welcome_code: str, text: str, link: WelcomeLink | None) -> None:
        message: dict[str, Any] = {"welcome_code": welcome_code}
        if text:
            message["text"] = {"content": text}
        if link is not None:
            message["attachments"] = [
                {"msgtype": "link", "link": {"title": link.title, "url": link.url}}
            ]
        api = self._client.external_contact
        self._attempts("send_welcome_msg", lambda: api.send_welcome_msg(message))

    def transfer_customers(
        self, handover: str, takeover: str, external_userids: list[str], *, resigned: bool = False
    ) -> list[CustomerResult]:
        if len(external_userids) > TRANSFER_BATCH:
            raise ValueError(f"at most {TRANSFER_BATCH} customers a transfer call")
        endpoint = "externalcontact/" + ("resigned/" if resigned else "") + "transfer_customer"
        answer = self._post(
            endpoint,
            {"handover_userid": handover, "takeover_userid": takeover,
             "external_userid": external_userids},
        )  # fmt: skip
        return [
            CustomerResult(str(c["external_userid"]), int(c.get("errcode", 0)))
            for c in answer.get("customer", [])
        ]

    def transfer_results(
        self, handover: str, takeover: str, *, resigned: bool = False
    ) -> list[TransferState]:
        endpoint = "externalcontact/" + ("resigned/" if resigned else "") + "transfer_result"
        states: list[TransferState] = []
        cursor = ""
        while True:
            answer = self._post(
                endpoint,
                {"handover_userid": handover, "takeover_userid": takeover, "cursor": cursor},
            )
            states += [
                TransferState(
                    str(c["external_userid"]), int(c["status"]), c.get("takeover_time") or None
                )
                for c in answer.get("customer", [])
            ]
            cursor = str(answer.get("next_cursor") or "")
            if not cursor:
                return states
