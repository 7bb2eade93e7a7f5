"""A fake WeCom on loopback, for tests and the demo: the customer-contact API subset HQ
uses, with WeCom's JSON shapes and error codes, and a customer who adds a guide.

A real HTTP server (stdlib, in a thread) on 127.0.0.1; point ``api_base_url`` at
``fake.api_base_url``. Its clock (``advance``) compresses the 24 h transfer wait; knobs
make it answer 45009, hang, or talk garbage; ``customer_adds`` builds the encrypted
callback exactly as WeCom does (the same WeChatCrypto) and posts it to HQ or returns it.

The customer's phone, for the demo and the browser tests: a contact way's ``qr_code`` is
this fake's own ``/qr/<config_id>.svg`` (a QR of ``/scan/<config_id>``), and that page's
"Add" button is ``customer_adds`` posting to ``callback_url`` (HQ's ``/wecom/callback``).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

TRANSFER_DELAY_S = 24 * 3600  # a transfer completes after 24 h (transfer_customer, path 92125)
TRANSFER_WINDOW_S = 90 * 24 * 3600
TRANSFERS_PER_WINDOW = 2
WELCOME_CODE_S = 20  # a WelcomeCode is usable for 20 s (send_welcome_msg, path 92137)
# Codes this fake answers with. WeCom's code for a full contact-way quota is not in the
# pages consulted: the fake's stand-in is 41100 (the adapter treats any code alike).
OK, BUSY, BAD_SECRET, BAD_TOKEN, NO_TOKEN, EXPIRED = 0, 45009, 40001, 40014, 41001, 42001
UNKNOWN_CUSTOMER, NOT_A_CONTACT, TRANSFER_LIMIT, IN_TRANSFER = 40096, 84061, 40128, 40129
WAYS_FULL, BAD_CONFIG, BAD_WELCOME_CODE, BAD_ARGS = 41100, 40013, 41051, 40058


@dataclass
class Callback:
    """What WeCom sends: the query string and the encrypted body."""

    query: dict[str, str]
    body: bytes


@dataclass
class _Transfer:
    external_userid: str
    handover: str
    takeover: str
    resigned: bool
    at: float
    outcome: int = 1  # 1 accepted, 3 refused, 4 takeover full: decided by ``customer_answers``
    settled: bool = False


@dataclass
class _Customer:
    unionid: str | None
    follows: dict[str, dict[str, Any]] = field(default_factory=dict)  # userid -> follow_user


class FakeWeCom:
    def __init__(
        self,
        *,
        corp_id: str = "wwfakecorp00000001",
        secret: str = "fake-secret",
        callback_token: str = "faketoken",
        encoding_aes_key: str | None = None,
        max_contact_ways: int = 500_000,
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.callback_token = callback_token
        self.encoding_aes_key = (
            encoding_aes_key or base64.b64encode(secrets.token_bytes(32)).decode()[:43]
        )
        self.max_contact_ways = max_contact_ways
        self.crypto = WeChatCrypto(callback_token, self.encoding_aes_key, corp_id)
        self.now = time.time()
        self.lock = threading.RLock()
        self.calls: list[str] = []
        self.tokens: dict[str, float] = {}
        self.ways: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, _Customer] = {}
        self.transfers: list[_Transfer] = []
        self.welcome_codes: dict[str, float] = {}
        self.welcomes: list[dict[str, Any]] = []
        self.callback_url: str | None = None  # HQ's /wecom/callback, for the "Add" button
        self._faults: list[tuple[str, float]] = []  # ("busy"|"hang"|"garbage"|"error:<code>", s)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- running --------------------------------------------------------------------------
    def start(self) -> FakeWeCom:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeWeCom:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/cgi-bin/"

    def settings_env(self) -> dict[str, str]:
        """The HQ environment that points the real adapter at this fake."""
        return {
            "POSAPP_HQ_WECOM_CORP_ID": self.corp_id,
            "POSAPP_HQ_WECOM_SECRET": self.secret,
            "POSAPP_HQ_WECOM_CALLBACK_TOKEN": self.callback_token,
            "POSAPP_HQ_WECOM_ENCODING_AES_KEY": self.encoding_aes_key,
            "POSAPP_HQ_WECOM_API_BASE_URL": self.api_base_url,
        }

    # -- knobs ----------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds

    def busy(self, times: int = 1) -> None:
        """The next calls answer 45009 (too many calls)."""
        self._faults += [("error:45009", 0.0)] * times

    def fail(self, code: int, times: int = 1) -> None:
        self._faults += [(f"error:{code}", 0.0)] * times

    def hang(self, seconds: float, times: int = 1) -> None:
        self._faults += [("hang", seconds)] * times

    def garbage(self, times: int = 1) -> None:
        self._faults += [("garbage", 0.0)] * times

    def calm(self) -> None:
        """No more faults: every call is answered normally again."""
        self._faults.clear()

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def count(self, endpoint: str) -> int:
        return sum(1 for c in self.calls if c == endpoint)

    # -- the customer's side --------------------------------------------------------------
    def callback(self, fields: dict[str, str], *, url: str | None = None) -> Callback:
        """A change_external_contact event, encrypted and signed as WeCom sends it."""
        event = {
            "ToUserName": self.corp_id, "FromUserName": "sys",
            "CreateTime": str(int(self.now)), "MsgType": "event",
            "Event": "change_external_contact",
        } | fields  # fmt: skip
        plain = "<xml>" + "".join(
            f"<{k}>{v}</{k}>" if k == "CreateTime" else f"<{k}><![CDATA[{v}]]></{k}>"
            for k, v in event.items()
        ) + "</xml>"  # fmt: skip
        nonce, timestamp = str(secrets.randbelow(10**10)), str(int(self.now))
        reply = xmltodict.parse(self.crypto.encrypt_message(plain, nonce, timestamp))["xml"]
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{reply['Encrypt']}]]></Encrypt>"
            "<AgentID><![CDATA[]]></AgentID></xml>"
        ).encode()
        query = {"msg_signature": reply["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
        sent = Callback(query, body)
        if url is not None:
            requests.post(url, params=query, data=body, timeout=5).raise_for_status()
        return sent

    def verification(self, echo: str = "1288432023552776189") -> dict[str, str]:
        """The GET WeCom sends when the admin saves the callback URL."""
        nonce, timestamp = str(secrets.randbelow(10**10)), str(int(self.now))
        reply = xmltodict.parse(self.crypto.encrypt_message(echo, nonce, timestamp))["xml"]
        return {"msg_signature": reply["MsgSignature"], "timestamp": timestamp, "nonce": nonce,
                "echostr": reply["Encrypt"]}  # fmt: skip

    def customer_adds(
        self,
        state: str,
        external_userid: str,
        *,
        userid: str | None = None,
        unionid: str | None = None,
        url: str | None = None,
    ) -> Callback:
        """A customer scans the contact way with ``state`` and adds its guide."""
        with self.lock:
            if userid is None:
                way = next((w for w in self.ways.values() if w["state"] == state), None)
                if way is None:
                    raise LookupError(f"no contact way with state {state!r}")
                userid = way["user"][0]
            customer = self.customers.setdefault(external_userid, _Customer(unionid))
            customer.follows[userid] = {
                "userid": userid, "remark": "", "createtime": int(self.now), "state": state,
            }  # fmt: skip
            code = secrets.token_hex(16)
            self.welcome_codes[code] = self.now + WELCOME_CODE_S
        return self.callback(
            {"ChangeType": "add_external_contact", "UserID": userid,
             "ExternalUserID": external_userid, "State": state, "WelcomeCode": code},
            url=url,
        )  # fmt: skip

    def befriend(self, external_userid: str, userid: str, *, unionid: str | None = None) -> None:
        """The customer is already a contact of ``userid`` (no callback): for bulk set-ups."""
        with self.lock:
            customer = self.customers.setdefault(external_userid, _Customer(unionid))
            customer.follows[userid] = {"userid": userid, "remark": "",
                                        "createtime": int(self.now), "state": ""}  # fmt: skip

    def customer_removes(
        self, userid: str, external_userid: str, *, url: str | None = None
    ) -> Callback:
        with self.lock:
            customer = self.customers.get(external_userid)
            if customer is not None:
                customer.follows.pop(userid, None)
        return self.callback(
            {"ChangeType": "del_follow_user", "UserID": userid, "ExternalUserID": external_userid},
            url=url,
        )

    def customer_answers(self, external_userid: str, outcome: int) -> None:
        """How the customer's pending transfer ends: 1 accepted, 3 refused, 4 takeover full."""
        with self.lock:
            for transfer in self.transfers:
                if transfer.external_userid == external_userid and not transfer.settled:
                    transfer.outcome = outcome

    # -- the server -----------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _serve(self, body: dict[str, Any]) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                endpoint = parsed.path.removeprefix("/cgi-bin/")
                query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
                fake.calls.append(endpoint)
                fault = fake._faults.pop(0) if fake._faults else None
                if fault is not None and fault[0] == "hang":
                    time.sleep(fault[1])
                if fault is not None and fault[0] == "garbage":
                    raw = b"<html>502 Bad Gateway</html>"
                else:
                    if fault is not None and fault[0].startswith("error:"):
                        answer = _error(int(fault[0].split(":")[1]))
                    else:
                        with fake.lock:
                            answer = fake._answer(endpoint, query, body)
                    raw = json.dumps(answer, ensure_ascii=False).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass  # the client gave up (a hang past its timeout)

            def _phone(self, method: str) -> bool:
                """The customer's side (not WeCom's API): the QR image and the "Add" page."""
                path = urllib.parse.urlsplit(self.path).path
                if not path.startswith(("/qr/", "/scan/")):
                    return False
                if method == "POST":
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, kind, raw = fake._phone_page(method, path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass
                return True

            def do_GET(self) -> None:
                if not self._phone("GET"):
                    self._serve({})

            def do_POST(self) -> None:
                if self._phone("POST"):
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = None
                self._serve(body if isinstance(body, dict) else {"_bad": True})

        return Handler

    def _answer(self, endpoint: str, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if endpoint == "gettoken":
            if query.get("corpid") != self.corp_id:
                return _error(BAD_CONFIG, "invalid corpid")
            if query.get("corpsecret") != self.secret:
                return _error(BAD_SECRET, "invalid credential")
            token = secrets.token_urlsafe(48)
            self.tokens[token] = self.now + 7200
            return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        token = query.get("access_token")
        if not token:
            return _error(NO_TOKEN, "access_token missing")
        if token not in self.tokens:
            return _error(BAD_TOKEN, "invalid access_token")
        if self.tokens[token] <= self.now:
            return _error(EXPIRED, "access_token expired")
        if body.get("_bad"):
            return _error(BAD_ARGS, "wrong json format")
        route = _ROUTES.get(endpoint)
        return route(self, query, body) if route else _error(404, f"no api {endpoint}")

    def _add_contact_way(self, _q: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        state = str(body.get("state") or "")
        users = body.get("user") or []
        if len(state) > 30 or body.get("type") != 1 or len(users) != 1:
            return _error(BAD_ARGS, "invalid args")
        if len(self.ways) >= self.max_contact_ways:
            return _error(WAYS_FULL, "contact way count limit")
        config_id = secrets.token_hex(16)
        self.ways[config_id] = body | {"config_id": config_id, "create_time": int(self.now)}
        return {"errcode": 0, "errmsg": "ok", "config_id": config_id,
                "qr_code": f"{self.base_url}/qr/{config_id}.svg"}  # fmt: skip

    def _del_contact_way(self, _q: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if self.ways.pop(str(body.get("config_id")), None) is None:
            return _error(BAD_ARGS, "invalid config_id")
        return _error(OK, "ok")

    def _list_contact_way(self, _q: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        start, end = int(body.get("start_time", 0)), int(body.get("end_time", self.now))
        found = [{"config_id": c} for c, w in self.ways.items() if start <= w["create_time"] <= end]
        return {"errcode": 0, "errmsg": "ok", "contact_way": found}

    def _get(self, query: dict[str, str], _b: dict[str, Any]) -> dict[str, Any]:
        customer = self.customers.get(query.get("external_userid", ""))
        if customer is None:
            return _error(UNKNOWN_CUSTOMER, "invalid external userid")
        contact = {"external_userid": query["external_userid"], "name": "客户", "type": 1}
        if customer.unionid:
            contact["unionid"] = customer.unionid
        return {"errcode": 0, "errmsg": "ok", "external_contact": contact,
                "follow_user": list(customer.follows.values())}  # fmt: skip

    def _send_welcome_msg(self, _q: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        code = str(body.get("welcome_code", ""))
        if self.welcome_codes.pop(code, 0.0) < self.now:
            return _error(BAD_WELCOME_CODE, "invalid welcome_code")
        self.welcomes.append(body)
        return _error(OK, "ok")

    def _transfer_customer(
        self, _q: dict[str, str], body: dict[str, Any], *, resigned: bool = False
    ) -> dict[str, Any]:
        handover, takeover = str(body.get("handover_userid")), str(body.get("takeover_userid"))
        customers = body.get("external_userid") or []
        if len(customers) > 100:
            return _error(BAD_ARGS, "external_userid exceed max size")
        answers = []
        for ext in customers:
            answers.append(
                {
                    "external_userid": ext,
                    "errcode": self._transfer_one(ext, handover, takeover, resigned),
                }
            )
        return {"errcode": 0, "errmsg": "ok", "customer": answers}

    def _transfer_one(self, ext: str, handover: str, takeover: str, resigned: bool) -> int:
        customer = self.customers.get(ext)
        if customer is None:
            return UNKNOWN_CUSTOMER
        if handover not in customer.follows:
            return NOT_A_CONTACT
        mine = [t for t in self.transfers if t.external_userid == ext]
        if any(not t.settled for t in mine):
            return IN_TRANSFER
        recent = [t for t in mine if t.outcome == 1 and t.at > self.now - TRANSFER_WINDOW_S]
        if len(recent) >= TRANSFERS_PER_WINDOW:
            return TRANSFER_LIMIT
        self.transfers.append(_Transfer(ext, handover, takeover, resigned, self.now))
        return OK

    def _transfer_result(
        self, _q: dict[str, str], body: dict[str, Any], *, resigned: bool = False
    ) -> dict[str, Any]:
        handover, takeover = str(body.get("handover_userid")), str(body.get("takeover_userid"))
        found = []
        for t in self.transfers:
            if (t.handover, t.takeover, t.resigned) != (handover, takeover, resigned):
                continue
            done = self.now >= t.at + TRANSFER_DELAY_S
            if done and not t.settled:
                t.settled = True
                if t.outcome == 1:
                    follows = self.customers[t.external_userid].follows
                    follow = follows.pop(t.handover, {"userid": t.takeover})
                    follows[t.takeover] = follow | {"userid": t.takeover}
            found.append({"external_userid": t.external_userid, "status": t.outcome if done else 2,
                          "takeover_time": int(t.at + TRANSFER_DELAY_S) if done else 0})  # fmt: skip
        return {"errcode": 0, "errmsg": "ok", "customer": found, "next_cursor": ""}

    def _phone_page(self, method: str, path: str) -> tuple[int, str, bytes]:
        config_id = path.rsplit("/", 1)[-1].removesuffix(".svg")
        with self.lock:
            way = self.ways.get(config_id)
        if way is None:
            return (
                404,
                "text/plain; charset=utf-8",
                "这个二维码已失效 / This code has expired".encode(),
            )
        if path.startswith("/qr/"):
            return 200, "image/svg+xml", _qr_svg(f"{self.base_url}/scan/{config_id}").encode()
        userid = way["user"][0]
        if method == "POST":
            external_userid = "wm" + secrets.token_hex(8)
            self.customer_adds(way["state"], external_userid, userid=userid, url=self.callback_url)
            body = f"<h1>已添加 {userid}</h1><p>Added {userid} on WeCom (fake).</p>"
        else:
            body = (
                f"<h1>添加企业微信好友 {userid}</h1><p>Add {userid} on WeCom (fake)</p>"
                '<form method="post"><button id="add" type="submit">添加 / Add</button></form>'
            )
        page = f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><body>{body}</body></html>'
        return 200, "text/html; charset=utf-8", page.encode()


def _qr_svg(data: str) -> str:
    from posapp.qr import qr_matrix

    matrix = qr_matrix(data)
    n = len(matrix)
    path = "".join(f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix)
                   for x, dark in enumerate(row) if dark)  # fmt: skip
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 {n + 4} {n + 4}" '
            f'shape-rendering="crispEdges"><rect x="-2" y="-2" width="{n + 4}" height="{n + 4}" '
            f'fill="#fff"/><path d="{path}" fill="#000"/></svg>')  # fmt: skip


def _error(code: int, message: str = "") -> dict[str, Any]:
    return {"errcode": code, "errmsg": message or ("ok" if code == 0 else "error")}


_ROUTES: dict[str, Any] = {
    "externalcontact/add_contact_way": FakeWeCom._add_contact_way,
    "externalcontact/del_contact_way": FakeWeCom._del_contact_way,
    "externalcontact/list_contact_way": FakeWeCom._list_contact_way,
    "externalcontact/get": FakeWeCom._get,
    "externalcontact/send_welcome_msg": FakeWeCom._send_welcome_msg,
    "externalcontact/transfer_customer": FakeWeCom._transfer_customer,
    "externalcontact/transfer_result": FakeWeCom._transfer_result,
    "externalcontact/resigned/transfer_customer": (
        lambda fake, q, b: fake._transfer_customer(q, b, resigned=True)
    ),
    "externalcontact/resigned/transfer_result": (
        lambda fake, q, b: fake._transfer_result(q, b, resigned=True)
    ),
}


@contextmanager
def running(**options: Any) -> Iterator[FakeWeCom]:
    with FakeWeCom(**options) as fake:
        yield fake
