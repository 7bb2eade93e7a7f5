"""HQ's HTTP API (FastAPI). Stateless: everything that matters lives in the database.

Credentials: ``Authorization: Bearer <kind>.<id>.<secret>`` with kind ``d`` (a registered
counter, scoped to its store), ``p`` (the mini-program backend) or ``a`` (HQ admin).
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at run
# time, and the dependencies they name are local to create_app.
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posapp import __version__
from posapp.domain.errors import InvalidInput
from posapp.domain.invite import store_key
from posapp.hq import admin, assignment, join, reports
from posapp.hq.config import HqSettings
from posapp.hq.db import HqDatabase
from posapp.hq.feed import CursorGone, read_changes
from posapp.hq.ingest import backlog_status, prepare, push
from posapp.hq.models import Device, Store
from posapp.hq.projector import Projector, StillApplying
from posapp.hq.proxies import client_address
from posapp.hq.ratelimit import bump_window
from posapp.hq.redeem import redeem
from posapp.hq.security import split_token
from posapp.hq.sms import OUTBOX_NAME, FileSmsSender, SmsSender, forget_phone
from posapp.protocol.invites import RedeemRequest, RedeemResponse
from posapp.protocol.sync import (
    MAX_PAGE,
    ApiError,
    ChangesPage,
    PushRequest,
    PushResponse,
    RegisterRequest,
    RegisterResponse,
)

log = logging.getLogger("posapp.hq")
RETRYABLE_PG = {"40001", "40P01"}
HTTP_ERRORS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
HTTP_MESSAGES = {
    400: "HQ could not read this request.",
    404: "There is nothing at this address.",
    405: "This address does not take this method.",
}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ApiFailure(Exception):
    def __init__(
        self, status: int, error: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers


class SafeHeaders:
    """Headers every answer carries (plain ASGI: no task and no copy per request)."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in self.HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + list(self.HEADERS)}
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuse request bodies over the limit before they are read into memory (413)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _plain_error(send, 413, "too_large", "The request body is too large.")
            return
        # Read the whole body (at most the limit) before the app sees it, so a body that
        # lies about or omits its length is refused the same way, with a clean 413.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await _plain_error(send, 413, "too_large", "The request body is too large.")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _plain_error(send: Send, status: int, error: str, message: str) -> None:
    body = ApiError(error=error, message=message).model_dump_json().encode()
    await send(
        {"type": "http.response.start", "status": status,
         "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    )  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class AssignRequest(BaseModel):
    guide_id: str = Field(min_length=1, max_length=64)


@dataclass
class Caller:
    kind: str  # device, partner, admin
    ident: str
    store_id: str | None = None
    device: Device | None = None


def create_app(
    settings: HqSettings | None = None,
    db: HqDatabase | None = None,
    sms_sender: SmsSender | None = None,
) -> FastAPI:
    settings = settings or HqSettings()
    database = db or HqDatabase(settings.db_url)
    if sms_sender is None:
        if settings.sms_sender != "file":
            raise ValueError(f"unknown SMS sender {settings.sms_sender!r}")
        sms_sender = FileSmsSender(settings.data_dir / OUTBOX_NAME)
    sender: SmsSender = sms_sender
    master_key = settings.master_key_bytes()
    projector = Projector(
        database,
        master_key,
        utcnow,
        quiet=settings.apply_quiet_seconds,
        max_lag=settings.apply_max_lag_seconds,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        projector.start()
        try:
            yield
        finally:
            projector.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="posapp HQ",
        version=__version__,
        description="The brand's headquarters: sync, invite redemption, erasure, reports.",
        responses={
            400: {"model": ApiError},
            401: {"model": ApiError},
            403: {"model": ApiError},
            404: {"model": ApiError},
            413: {"model": ApiError},
            422: {"model": ApiError},
            429: {"model": ApiError},
        },
    )
    app.state.db = database
    app.state.settings = settings
    app.state.projector = projector

    @app.exception_handler(ApiFailure)
    async def _failure(_: Request, exc: ApiFailure) -> JSONResponse:
        return JSONResponse(
            ApiError(error=exc.error, message=exc.message).model_dump(),
            exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse(
            ApiError(error=f"{exc.field}.{exc.rule}", message=exc.message).model_dump(), 422
        )

    @app.exception_handler(RequestValidationError)
    async def _unreadable(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            ApiError(
                error="invalid_request", message=f"{where}: {first.get('msg', 'invalid')}"[:300]
            ).model_dump(),
            422,
        )

    @app.exception_handler(StarletteHTTPException)  # FastAPI's and the router's own (404, 405)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = HTTP_ERRORS.get(exc.status_code, f"http_{exc.status_code}")
        message = HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)[:300]
        return JSONResponse(
            ApiError(error=error, message=message).model_dump(),
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(
            ApiError(error="internal", message="HQ could not do this; try again.").model_dump(), 500
        )

    def reading() -> Iterator[Session]:
        with database.read() as session:
            yield session

    def credential(authorization: str | None) -> tuple[str, str, str]:
        """``(kind, id, secret)`` from a bearer header, or 401 before anything else is done."""
        scheme, _, token = (authorization or "").partition(" ")
        parts = split_token(token.strip()) if scheme.lower() == "bearer" else None
        if parts is None:
            raise ApiFailure(
                401,
                "unauthenticated",
                "A valid credential is needed.",
                {"WWW-Authenticate": "Bearer"},
            )
        return parts

    def identify(session: Session, parts: tuple[str, str, str]) -> Caller:
        """Check the credential and count the request against its rate limit, in ``session``."""
        kind, ident, secret = parts
        if kind == "d":
            device = admin.authenticate_device(session, ident, secret)
            caller = Caller("device", ident, device.store_id, device) if device else None
        elif kind in ("p", "a"):
            name = {"p": "partner", "a": "admin"}[kind]
            cred = admin.authenticate_credential(session, name, ident, secret)
            caller = Caller(name, ident) if cred else None
        else:
            caller = None
        if caller is None:
            raise ApiFailure(
                401,
                "unauthenticated",
                "A valid credential is needed.",
                {"WWW-Authenticate": "Bearer"},
            )
        _count_request(session, f"{caller.kind}:{ident}", settings.rate_limit_per_minute)
        return caller

    def authenticate(authorization: Annotated[str | None, Header()] = None) -> Caller:
        parts = credential(authorization)
        with database.transaction() as session:
            return identify(session, parts)

    def device_only(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if caller.kind != "device":
            raise ApiFailure(403, "forbidden", "Only a registered counter may do this.")
        return caller

    def partner_only(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if caller.kind not in ("partner", "admin"):
            raise ApiFailure(403, "forbidden", "Only the mini-program backend may redeem invites.")
        return caller

    def admin_only(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if caller.kind != "admin":
            raise ApiFailure(403, "forbidden", "Only HQ administrators may do this.")
        return caller

    def reporting(
        caller: Annotated[Caller, Depends(authenticate)],
        store_id: Annotated[str | None, Query(max_length=64)] = None,
    ) -> str | None:
        """Admins see any store (or all); a counter sees only its own store."""
        if caller.kind == "admin":
            return store_id
        if caller.kind == "device":
            if store_id not in (None, caller.store_id):
                raise ApiFailure(403, "forbidden", "A counter sees only its own store.")
            return caller.store_id
        raise ApiFailure(403, "forbidden", "Reports are for HQ and the store's own counters.")

    def _count_request(session: Session, key: str, limit: int) -> None:
        now = utcnow()
        window = now.replace(second=0, microsecond=0)
        count = bump_window(
            session, f"{key}@{window:%Y%m%d%H%M}", expires_at=window + timedelta(minutes=2), now=now
        )
        if count > limit:
            retry = 60 - now.second
            raise ApiFailure(
                429, "rate_limited", "Too many requests; slow down.", {"Retry-After": str(retry)}
            )

    def settled(device_id: str | None = None) -> None:
        """Every acknowledged event (of this device) applied, before derived state is read."""
        try:
            projector.catch_up(device_id=device_id, budget=settings.apply_wait_seconds)
        except StillApplying as exc:
            raise ApiFailure(
                503,
                "still_applying",
                "HQ is still applying the events it has received; try again shortly.",
                {"Retry-After": "1"},
            ) from exc

    def projected() -> None:
        settled()

    def reading_applied() -> Iterator[Session]:
        """A read of derived state: whatever HQ has acknowledged is applied first."""
        settled()
        with database.read() as session:
            yield session

    def settle_if_quick() -> None:
        """For a customer's page: apply what is waiting, but never keep them waiting long."""
        try:
            projector.catch_up(budget=3.0)
        except StillApplying:
            log.warning("join page served while HQ is still applying pushed events")

    def _writing(action: Callable[[Session], Any], *, sequenced: bool = True) -> Any:
        """Run one write transaction, retrying PostgreSQL's transient conflicts.

        ``sequenced``: serialised behind the change sequencer, as anything that adds to the
        feed must be; a push only appends to the event log and need not wait for that.
        """
        for attempt in range(4):
            try:
                with database.write() if sequenced else database.transaction() as session:
                    return action(session)
            except OperationalError as exc:
                code = getattr(getattr(exc, "orig", None), "sqlstate", None)
                if code not in RETRYABLE_PG or attempt == 3:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    @app.get("/v1/status/applying", operation_id="getApplyingStatus", tags=["meta"])
    def applying(
        caller: Annotated[Caller, Depends(admin_only)],
        session: Annotated[Session, Depends(reading)],
    ) -> dict[str, Any]:
        """Events HQ has acknowledged but not applied yet: a lag of minutes needs a look."""
        return backlog_status(session, now=utcnow())

    @app.get("/healthz", operation_id="health", tags=["meta"])
    def health() -> dict[str, str]:
        with database.read() as session:
            session.execute(Store.__table__.select().limit(1))
        return {"status": "ok", "version": __version__}

    @app.post(
        "/v1/devices/register",
        operation_id="registerDevice",
        tags=["devices"],
        response_model=RegisterResponse,
    )
    def register(body: RegisterRequest, request: Request) -> RegisterResponse:
        client = client_address(request, settings.trusted_networks)
        with database.transaction() as session:
            _count_request(session, f"register:{client}", settings.register_limit_per_minute)

        def act(session: Session) -> RegisterResponse:
            done = admin.register_device(
                session,
                code=body.code,
                name=body.device_name,
                now=utcnow(),
                device_id=body.device_id,
            )
            return RegisterResponse(
                device_id=done.device.id,
                device_no=done.device.device_no,
                store_id=done.store.id,
                store_no=done.store.store_no,
                store_name=done.store.name,
                currency=done.store.currency,
                region=done.store.region,
                device_secret=f"d.{done.device.id}.{done.secret}",
                invite_key=store_key(master_key, done.store.id).hex(),
                hq_time=utcnow().replace(tzinfo=UTC),  # RFC 3339: with its zone
            )

        return _writing(act)

    @app.post("/v1/devices/rotate", operation_id="rotateDeviceSecret", tags=["devices"])
    def rotate(caller: Annotated[Caller, Depends(device_only)]) -> dict[str, str]:
        def act(session: Session) -> dict[str, str]:
            device = session.get(Device, caller.ident)
            assert device is not None
            return {
                "device_secret": f"d.{device.id}.{admin.rotate_device_secret(session, device=device)}"
            }

        return _writing(act)

    @app.post("/v1/devices/{device_id}/revoke", operation_id="revokeDevice", tags=["devices"])
    def revoke(
        device_id: Annotated[str, Path(min_length=1, max_length=64)],
        caller: Annotated[Caller, Depends(admin_only)],
    ) -> dict[str, Any]:
        """Shut a counter out: 401 for its credential from now on; what it pushed stays."""

        def act(session: Session) -> dict[str, Any]:
            try:
                done = admin.revoke_device(session, device_id=device_id, now=utcnow())
            except admin.NotFound as exc:
                raise ApiFailure(404, "not_found", "No such device.") from exc
            log.info("device %s of store %s revoked", done.device_id, done.store_id)
            return {
                "device_id": done.device_id,
                "store_id": done.store_id,
                "revoked_at": done.revoked_at.replace(tzinfo=UTC).isoformat(),
                "accepted_through": done.accepted_through,
            }

        return _writing(act)

    @app.post(
        "/v1/sync/push",
        operation_id="pushEvents",
        tags=["sync"],
        response_model=PushResponse,
        openapi_extra={"requestBody": _json_body(PushRequest)},
    )
    async def push_events(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_device_time: Annotated[datetime | None, Header()] = None,
    ) -> Response:
        # The hot path of a backlog: the credential is checked inside the push's own write
        # transaction (one commit, not two), after a malformed one has been turned away.
        parts = credential(authorization)
        if parts[0] != "d":
            await run_in_threadpool(authenticate, authorization)  # 401 if it is not valid either
            raise ApiFailure(403, "forbidden", "Only a registered counter may do this.")
        # The body is read and validated straight from bytes by pydantic-core: a batch of
        # 500 events would otherwise be decoded to Python objects first and walked twice.
        try:
            body = PushRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ApiFailure(
                422, "invalid_request", f"{where}: {first.get('msg', '')}"[:300]
            ) from exc
        if any(e.device_id != parts[1] for e in body.events):
            raise ApiFailure(400, "wrong_device", "Events must carry this device's id.")
        answer = await run_in_threadpool(_push, body, parts, x_device_time)
        return Response(answer.model_dump_json(), media_type="application/json")

    def _push(
        body: PushRequest, parts: tuple[str, str, str], device_time: datetime | None
    ) -> PushResponse:
        batch = prepare(body.events)  # before the write lock, in parallel with others

        def act(session: Session) -> PushResponse:
            caller = identify(session, parts)
            device = caller.device
            assert device is not None
            now = utcnow()
            answer = push(session, device=device, batch=batch, now=now)
            if device_time is not None:  # after push(), which reloads the device row locked
                skew = int((device_time.replace(tzinfo=None) - now).total_seconds())
                warn = settings.clock_skew_warn_s
                was = device.clock_skew_s
                if abs(skew) > warn and (was is None or abs(was) <= warn):  # once per crossing
                    log.warning(
                        "device %s: clock %+d s off HQ's (over %d s)", device.id, skew, warn
                    )
                device.clock_skew_s = skew
            return answer

        answer = _writing(act, sequenced=False)
        projector.pushed()
        return answer

    @app.get(
        "/v1/sync/changes", operation_id="getChanges", tags=["sync"], response_model=ChangesPage
    )
    def changes(
        caller: Annotated[Caller, Depends(device_only)],
        session: Annotated[Session, Depends(reading)],
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
    ) -> Response:
        assert caller.store_id is not None
        settled(caller.ident)  # its own events are in what it reads back, never an older state
        try:
            page, next_cursor, more = read_changes(
                session,
                store_id=caller.store_id,
                cursor=cursor,
                limit=min(limit, settings.page_limit * 5),
            )
        except CursorGone as exc:
            raise ApiFailure(410, "cursor_gone", "Start again from a fresh snapshot.") from exc
        answer = ChangesPage(
            changes=page, cursor=next_cursor, has_more=more, hq_time=utcnow().replace(tzinfo=UTC)
        )
        # Serialised once here: a snapshot page holds thousands of members, and letting
        # FastAPI validate the model again would double the cost of every page.
        return Response(answer.model_dump_json(), media_type="application/json")

    @app.post(
        "/v1/invites/redeem",
        operation_id="redeemInvite",
        tags=["invites"],
        response_model=RedeemResponse,
    )
    def redeem_invite(
        body: RedeemRequest,
        caller: Annotated[Caller, Depends(partner_only)],
        _settled: Annotated[None, Depends(projected)],
    ) -> RedeemResponse:
        return _writing(lambda session: redeem(session, body, master_key=master_key, now=utcnow()))

    @app.post("/v1/members/{member_id}/erase", operation_id="eraseMember", tags=["members"])
    def erase(
        member_id: Annotated[str, Path(max_length=64)],
        caller: Annotated[Caller, Depends(admin_only)],
        _settled: Annotated[None, Depends(projected)],
    ) -> dict[str, Any]:
        def act(session: Session) -> tuple[dict[str, Any], str | None]:
            try:
                done = admin.erase_member(
                    session,
                    member_id=member_id,
                    requested_by=caller.ident,
                    now=utcnow(),
                    master_key=master_key,
                )
            except admin.NotFound as exc:
                raise ApiFailure(404, "not_found", "No such member.") from exc
            return {
                "member_id": done.member_id,
                "erased_at": done.erased_at.isoformat(),
                "stores": done.stores,
            }, done.phone_e164

        answer, phone = _writing(act)
        # Answered once no HQ file keeps an old copy of what was erased (docs/hq.md).
        if not database.purge_old_versions(admin.ERASED_TABLES):
            log.warning("erasure: the SQLite log could not be truncated yet (busy readers)")
        if phone:
            forget_phone(sender, phone)
        return answer

    @app.get("/v1/members/{member_id}/erasure", operation_id="getErasure", tags=["members"])
    def erasure(
        member_id: Annotated[str, Path(max_length=64)],
        caller: Annotated[Caller, Depends(admin_only)],
        session: Annotated[Session, Depends(reading_applied)],
    ) -> dict[str, Any]:
        try:
            return admin.erasure_status(session, member_id)
        except admin.NotFound as exc:
            raise ApiFailure(404, "not_found", "No erasure for this member.") from exc

    @app.get("/v1/members/{member_id}/consents", operation_id="getMemberConsents",
             tags=["members"])  # fmt: skip
    def consents(
        member_id: Annotated[str, Path(max_length=64)],
        caller: Annotated[Caller, Depends(admin_only)],
        session: Annotated[Session, Depends(reading_applied)],
    ) -> dict[str, Any]:
        """A member's consent history: each decision with its store, staff, notice and time."""
        try:
            return admin.consent_history(session, member_id)
        except admin.NotFound as exc:
            raise ApiFailure(404, "not_found", "No such member.") from exc

    @app.post("/v1/members/{member}/guide", operation_id="assignGuide", tags=["members"])
    def assign_guide(
        member: Annotated[str, Path(min_length=1, max_length=64)],
        body: AssignRequest,
        caller: Annotated[Caller, Depends(admin_only)],
        _settled: Annotated[None, Depends(projected)],
    ) -> dict[str, Any]:
        """Give a customer (id or member code) to a guide; a third transfer in 90 days is 409."""

        def act(session: Session) -> dict[str, Any]:
            try:
                found = assignment.find_member(session, member)
                done = assignment.assign_guide(
                    session, member_id=found.id, guide_id=body.guide_id, now=utcnow(),
                    requested_by=caller.ident,
                )  # fmt: skip
            except admin.NotFound as exc:
                raise ApiFailure(404, "not_found", "No such member.") from exc
            except assignment.TransferLimit as exc:
                raise ApiFailure(409, "transfer_limit", exc.message) from exc
            return {
                "member_id": done.member_id,
                "guide_id": done.to_guide_id,
                "previous_guide_id": done.from_guide_id,
                "changed": done.changed,
                "transfers_in_window": done.transfers_in_window,
            }

        return _writing(act)

    def _period(days: int) -> tuple[datetime, datetime]:
        until = utcnow() + timedelta(seconds=1)
        return until - timedelta(days=days), until

    @app.get("/v1/reports/capture", operation_id="getCaptureReport", tags=["reports"])
    def capture(
        store: Annotated[str | None, Depends(reporting)],
        session: Annotated[Session, Depends(reading_applied)],
        days: Annotated[int, Query(ge=1, le=366)] = 30,
    ) -> dict[str, Any]:
        since, until = _period(days)
        return reports.capture_rate(session, store_id=store, since=since, until=until)

    @app.get("/v1/reports/enrolments", operation_id="getEnrolmentReport", tags=["reports"])
    def enrolled(
        store: Annotated[str | None, Depends(reporting)],
        session: Annotated[Session, Depends(reading_applied)],
        days: Annotated[int, Query(ge=1, le=366)] = 30,
    ) -> dict[str, Any]:
        since, until = _period(days)
        return reports.enrolments(session, store_id=store, since=since, until=until)

    @app.get("/v1/reports/rungs", operation_id="getRungReport", tags=["reports"])
    def rung_report(
        store: Annotated[str | None, Depends(reporting)],
        session: Annotated[Session, Depends(reading_applied)],
    ) -> dict[str, int]:
        return reports.rungs(session, store_id=store)

    @app.get("/v1/reports/repurchase", operation_id="getRepurchaseReport", tags=["reports"])
    def repurchase_report(
        store: Annotated[str | None, Depends(reporting)],
        session: Annotated[Session, Depends(reading_applied)],
    ) -> dict[str, Any]:
        return reports.repurchase(session, store_id=store)

    @app.get("/v1/reports/follow-ups", operation_id="getFollowUpReport", tags=["reports"])
    def follow_up_report(
        store: Annotated[str | None, Depends(reporting)],
        session: Annotated[Session, Depends(reading_applied)],
        days: Annotated[int, Query(ge=1, le=366)] = 30,
    ) -> dict[str, Any]:
        since, until = _period(days)
        return reports.follow_ups(session, store_id=store, since=since, until=until)

    join.install(
        app,
        database=database,
        settings=settings,
        master_key=master_key,
        writing=_writing,
        settle=settle_if_quick,
        sender=sender,
    )
    return _with_body_limit(app, settings.max_body_bytes)


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI request body for ``model`` with its definitions inlined (no $refs)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.rsplit("/", 1)[1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return {"required": True, "content": {"application/json": {"schema": inline(schema)}}}


def _with_body_limit(app: FastAPI, limit: int) -> FastAPI:
    app.add_middleware(BodyLimit, limit=limit)
    app.add_middleware(SafeHeaders)
    return app
