"""The POS posts each sale to a loopback HTTP endpoint; we record it once, whatever it sends.

Standard library only (``http.server``): the endpoint serves one till on the same machine,
so it needs no framework, but it must never be reachable from the shop's network, never
accept a sale without the token, and never let a malformed request write anything or
take the counter down. Every answer is JSON; no stack trace or phone number leaves here
or reaches the log (receipt numbers and purchase ids at most).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from posapp.domain.errors import InvalidInput
from posapp.protocol.problems import first_error
from posapp.services.pos_sales import record_pos_sale
from posapp.services.sales import SaleResult
from posapp.store.db import StorageError

if TYPE_CHECKING:
    from posapp.settings import Settings
    from posapp.store.db import Database

log = logging.getLogger(__name__)

SALES_PATH = "/v1/sales"
HEALTH_PATH = "/healthz"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_BODY_BYTES = 16 * 1024
MIN_TOKEN_CHARS = 16
REQUEST_TIMEOUT_S = 10.0
WORKERS = 4
LINGER_S = 1.0  # after answering, read what the client still sends for up to this long
LINGER_BYTES = 1024 * 1024  # ... or this much, so a refused body does not reset our answer

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

OnSale = Callable[[SaleResult], None]


# --- what a request may contain ------------------------------------------------------------


class SaleIn(BaseModel):
    """The body of ``POST /v1/sales``: shapes and types only; shop rules are the domain's."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    receipt_no: str
    amount: str = Field(description='Yuan as a decimal string, e.g. "128.00".')
    currency: str | None = None
    staff_id: str | None = Field(default=None, max_length=64)
    member_code: str | None = None
    phone: str | None = None


class _Refusal(Exception):
    """A request we answer with a 4xx/5xx and a ``{"error": {...}}`` body."""

    def __init__(
        self,
        status: HTTPStatus,
        rule: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.rule = rule
        self.message = message
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"field": self.field, "rule": self.rule, "message": self.message}}


def check_loopback(host: str) -> str:
    """The address to bind: loopback only, so nothing on the shop's network can post sales.

    ``localhost`` means ``127.0.0.1`` (not a name lookup, which a hosts file could redirect).
    """
    if host == "localhost":
        return DEFAULT_HOST
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(
            f"The POS intake binds only to a loopback IP address (127.0.0.1 or ::1), not {host!r}."
        ) from None
    if not address.is_loopback:
        raise ValueError(
            f"The POS intake must not listen on {host!r}: only loopback addresses "
            "(127.0.0.1, ::1) are allowed, so the shop's network cannot post sales."
        )
    return str(address)


def _json_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys, an object at the top."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not allowed")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError("duplicate key")
            result[key] = value
        return result

    try:
        data = json.loads(
            raw.decode("utf-8"), parse_constant=no_constants, object_pairs_hook=no_duplicates
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Refusal(
            HTTPStatus.BAD_REQUEST, "bad_json", "The body is not valid UTF-8 JSON."
        ) from None
    if not isinstance(data, dict):
        raise _Refusal(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "not_an_object",
            "The body must be a JSON object with receipt_no and amount.",
            field="body",
        )
    return data


def _validation_refusal(exc: ValidationError) -> _Refusal:
    """The first problem pydantic found, without echoing the value (it may be a phone)."""
    first = first_error(exc.errors(include_url=False, include_input=False))
    field = first.where or "body"
    message = first.message
    if first.rule == "extra_forbidden":
        message = f"Unknown field {field[:40]!r}."
    elif field == "amount":
        message += ' (amount is yuan as a decimal string, like "128.00")'
    elif first.rule == "missing":
        message = f"Field {field!r} is required."
    return _Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, first.rule, message, field=field)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: HTTPStatus
    body: dict[str, Any]


# --- the sale itself -----------------------------------------------------------------------


class IntakeServer:
    """Receives sales from the POS on ``POST /v1/sales`` and records each one exactly once.

    ``start()`` serves on background threads; ``stop()`` waits for requests in flight, so
    the caller may close the database right after. ``on_sale`` is called on the request
    thread after each *new* sale is committed (not for replays): keep it quick and
    thread-safe, e.g. emit a Qt signal.
    """

    def __init__(
        self,
        db: Database,
        *,
        token: str,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        currency: str = "CNY",
        region: str = "CN",
        on_sale: OnSale | None = None,
        workers: int = WORKERS,
    ) -> None:
        if not isinstance(token, str) or len(token.strip()) < MIN_TOKEN_CHARS:
            raise ValueError(f"The POS intake token must be at least {MIN_TOKEN_CHARS} characters.")
        if not 0 <= port <= 65535:
            raise ValueError(f"Port {port} is out of range.")
        self.db = db
        self.host = check_loopback(host)
        self._token = token.strip().encode("utf-8")
        self._wanted_port = port
        self.currency = currency
        self.region = region
        self.on_sale = on_sale
        self._workers = workers
        self._httpd: _LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, db: Database, settings: Settings, *, on_sale: OnSale | None = None
    ) -> IntakeServer:
        return cls(
            db,
            token=settings.intake_token,
            port=settings.intake_port,
            currency=settings.currency,
            region=settings.region,
            on_sale=on_sale,
        )

    @property
    def port(self) -> int:
        """The port actually bound (the real one when started with port 0)."""
        return self._httpd.server_address[1] if self._httpd else self._wanted_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Bind and serve in a background thread; ``OSError`` when the port is taken."""
        with self._lock:
            if self._httpd is not None:
                raise RuntimeError("The POS intake is already running.")
            httpd = _LoopbackHTTPServer((self.host, self._wanted_port), self, self._workers)
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="posapp-intake",
                daemon=True,
            )
            self._thread.start()
        log.info("POS intake listening on %s", self.url)

    def stop(self) -> None:
        """Stop accepting, finish requests in flight, release the port; safe to call twice."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join()
        log.info("POS intake stopped")

    def __enter__(self) -> IntakeServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- request handling (called from _Handler on a worker thread) --

    def authorized(self, header: str | None) -> bool:
        scheme, _, given = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode("utf-8", "replace"), self._token)

    def handle_sale(self, data: dict[str, Any]) -> _Answer:
        """Validate, resolve the member, record; every refusal is an ``_Refusal``."""
        try:
            sale = SaleIn.model_validate(data)
        except ValidationError as exc:
            refusal = _validation_refusal(exc)
            known = refusal.field if refusal.field in SaleIn.model_fields else "(other)"
            log.info("POS intake: sale refused (%s: %s)", known, refusal.rule)  # keys may be PII
            raise refusal from None
        try:
            return self._record(sale)
        except InvalidInput as exc:
            raise _input_refusal(exc, sale) from None
        except StorageError as exc:
            log.warning("POS intake: storage refused receipt %s (%s)", _safe(sale), exc.rule)
            raise _Refusal(
                HTTPStatus.SERVICE_UNAVAILABLE,
                exc.rule,
                exc.message,
                headers={"Retry-After": "1"},
            ) from None

    def _record(self, sale: SaleIn) -> _Answer:
        with self.db.write() as session:
            result = record_pos_sale(
                session,
                receipt_no=sale.receipt_no,
                amount=sale.amount,
                currency=sale.currency or self.currency,
                staff_id=sale.staff_id,
                member_code=sale.member_code,
                phone=sale.phone,
                region=self.region,
            )
        if result.created:
            log.info("POS intake: receipt %s recorded as %s", result.receipt_no, result.purchase_id)
            self._announce(result)
        else:
            log.info("POS intake: receipt %s replayed (%s)", result.receipt_no, result.purchase_id)
        status = HTTPStatus.CREATED if result.created else HTTPStatus.OK
        return _Answer(status, _sale_json(result))

    def _announce(self, result: SaleResult) -> None:
        if self.on_sale is None:
            return
        try:
            self.on_sale(result)
        except Exception as exc:  # the sale is committed: the POS must still hear so
            log.error(
                "POS intake: on_sale callback failed (%s) for %s\n%s",
                type(exc).__name__,
                result.purchase_id,
                "".join(traceback.format_tb(exc.__traceback__)),
            )


def _safe(sale: SaleIn) -> str:
    """A receipt number fit for the log: short, printable ASCII."""
    text = sale.receipt_no[:64]
    return text if text.isascii() and text.isprintable() else "(unprintable)"


def _input_refusal(exc: InvalidInput, sale: SaleIn) -> _Refusal:
    """Map a shop rule to HTTP: a receipt reused for another sale conflicts, the rest is 422."""
    member_field = "member_code" if sale.member_code is not None else "phone"
    field = {"staff": "staff_id", "member": member_field}.get(exc.field, exc.field)
    if exc.field == "receipt_no" and exc.rule in ("duplicate", "duplicate_member"):
        log.info("POS intake: receipt %s refused as a conflicting duplicate", _safe(sale))
        return _Refusal(HTTPStatus.CONFLICT, exc.rule, exc.message, field=field)
    log.info("POS intake: sale refused (%s: %s)", field, exc.rule)
    return _Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, exc.rule, exc.message, field=field)


def _sale_json(result: SaleResult) -> dict[str, Any]:
    return {
        "purchase_id": result.purchase_id,
        "receipt_no": result.receipt_no,
        "amount": f"{result.amount_fen // 100}.{result.amount_fen % 100:02d}",
        "amount_fen": result.amount_fen,
        "currency": result.currency,
        "member_id": result.member_id,
        "member_code_ref": result.member_code_ref,
        "created": result.created,
    }


# --- HTTP plumbing -------------------------------------------------------------------------


class _LoopbackHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer on a fixed pool of worker threads instead of one per request.

    ``Database.lookup()`` keeps one SQLite connection per thread until the database is
    closed, so a fresh thread per request would leave one open connection per member
    sale; a pool also caps how many requests run at once.
    """

    allow_reuse_address = sys.platform != "win32"  # on Windows it lets others steal the port
    daemon_threads = True
    request_queue_size = 64  # socketserver's 5 drops a burst of connects (1 s SYN retry)

    def __init__(self, address: tuple[str, int], intake: IntakeServer, workers: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.intake = intake
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="posapp-intake")
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        if sys.platform == "win32" and hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        TCPServer.server_bind(self)  # HTTPServer's would do a reverse DNS lookup
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        try:
            self._pool.submit(self.process_request_thread, request, client_address)
        except RuntimeError:  # the pool is shutting down
            self.shutdown_request(request)

    def shutdown_request(self, request: Any) -> None:
        """Lingering close: after our answer, read and drop what the client still sends.

        Closing a socket with unread input makes the kernel send a reset, and the client
        may then lose our answer (a 401, 411 or 413 sent before reading its body).
        """
        try:
            request.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_S
            left = LINGER_BYTES
            while left > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                request.settimeout(remaining)
                chunk = request.recv(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass
        self.close_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        log.error("POS intake: connection failed (%s)", type(exc).__name__)


class _Handler(BaseHTTPRequestHandler):
    """One request: route, authenticate, read a bounded body, answer JSON."""

    server: _LoopbackHTTPServer
    server_version = "posapp-intake"
    sys_version = ""
    protocol_version = "HTTP/1.0"  # one request per connection: stop() never waits on idle ones
    timeout = REQUEST_TIMEOUT_S
    error_content_type = "application/json"
    _ROUTES: ClassVar[dict[str, str]] = {SALES_PATH: "POST", HEALTH_PATH: "GET"}

    def version_string(self) -> str:
        return self.server_version  # no Python version on the wire

    # -- routing --

    def do_GET(self) -> None:
        if self._route("GET") == HEALTH_PATH:
            self._send(HTTPStatus.OK, {"status": "ok"})

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        if self._route("POST") != SALES_PATH:
            return
        intake = self.server.intake
        try:
            if not intake.authorized(self.headers.get("Authorization")):
                log.warning("POS intake: request without a valid token refused")
                raise _Refusal(
                    HTTPStatus.UNAUTHORIZED,
                    "unauthorized",
                    "A valid 'Authorization: Bearer <token>' header is required.",
                    headers={"WWW-Authenticate": 'Bearer realm="posapp-intake"'},
                )
            answer = intake.handle_sale(_json_object(self._read_body()))
        except _Refusal as refusal:
            self._send(refusal.status, refusal.body(), refusal.headers)
        except TimeoutError:
            self.close_connection = True
            log.info("POS intake: client too slow sending its request")
        except Exception as exc:  # never a stack trace to the client
            log.error(
                "POS intake: unexpected %s\n%s",
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {
                    "error": {
                        "field": None,
                        "rule": "internal",
                        "message": "Internal error: the sale was not recorded.",
                    }
                },
            )
        else:
            self._send(answer.status, answer.body)

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_OPTIONS(self) -> None:
        self._route("OPTIONS")

    def _route(self, method: str) -> str | None:
        """The path when ``method`` is allowed on it; otherwise answer 404/405 and None."""
        path = urlsplit(self.path).path
        allowed = self._ROUTES.get(path)
        if allowed is None:
            self._send_error(HTTPStatus.NOT_FOUND, "not_found", "No such endpoint.")
            return None
        if method != allowed and not (method == "HEAD" and allowed == "GET"):
            self._send_error(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "method_not_allowed",
                f"Use {allowed} on {path}.",
                {"Allow": allowed},
            )
            return None
        return path

    # -- the body --

    def _read_body(self) -> bytes:
        if self.headers.get_content_type() != "application/json":
            raise _Refusal(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "content_type",
                "Send the sale as 'Content-Type: application/json'.",
            )
        charset = self.headers.get_content_charset()
        if charset not in (None, "utf-8", "utf8"):
            raise _Refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "charset", "The body must be UTF-8.")
        if self.headers.get("Transfer-Encoding") is not None:
            self.close_connection = True
            raise _Refusal(
                HTTPStatus.LENGTH_REQUIRED,
                "length_required",
                "Send a Content-Length; chunked bodies are not accepted.",
            )
        declared = self.headers.get_all("Content-Length") or []
        if not declared:
            raise _Refusal(
                HTTPStatus.LENGTH_REQUIRED, "length_required", "Content-Length is required."
            )
        text = declared[0].strip()
        if len(declared) > 1 or not text.isascii() or not text.isdigit():
            self.close_connection = True
            raise _Refusal(HTTPStatus.BAD_REQUEST, "bad_length", "Content-Length is not valid.")
        length = int(text)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise _Refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "too_large",
                f"The body is larger than {MAX_BODY_BYTES} bytes.",
            )
        body = self.rfile.read(length)
        if len(body) != length:
            self.close_connection = True
            raise _Refusal(HTTPStatus.BAD_REQUEST, "truncated", "The body ended early.")
        return body

    # -- answers --

    def _send(
        self, status: HTTPStatus, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode("ascii")  # \u escapes: even a lone surrogate is safe
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_error(
        self,
        status: HTTPStatus,
        rule: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send(status, {"error": {"field": None, "rule": rule, "message": message}}, headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, unknown method ...) as JSON too."""
        self.close_connection = True
        status = HTTPStatus(code)
        rule = status.phrase.lower().replace(" ", "_").replace("-", "_")
        if not getattr(self, "command", None):
            self.command = ""
        self.request_version = "HTTP/1.0"  # a request line we could not read still gets headers
        self._send_error(status, rule, f"{status.phrase}.")

    # -- logging: method, path and status only; never headers, query strings or bodies --

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        method = getattr(self, "command", None) or "-"
        method = method if method in _METHODS else "(other)"
        path = urlsplit(getattr(self, "path", "") or "").path
        path = path if path in self._ROUTES else "(other)"  # a stray path could hold a phone
        log.debug("POS intake: %s %s -> %s", method, path, code)

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("POS intake: request error: %s", format.split("%", 1)[0].strip() or "-")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("POS intake: %s", format.split("%", 1)[0].strip() or "-")
