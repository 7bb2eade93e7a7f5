"""A counter pushes its events and pulls the changes for its store."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from posapp.hq.api.deps import (
    Credential,
    DatabaseDep,
    DeviceCaller,
    OwnAppliedSession,
    ProjectorDep,
    SettingsDep,
    authenticate,
    credential,
    identify,
    write,
)
from posapp.hq.api.errors import ApiFailure
from posapp.hq.config import HqSettings
from posapp.hq.db import HqDatabase
from posapp.hq.feed import read_changes
from posapp.hq.ingest import prepare, push
from posapp.hq.models import Device
from posapp.protocol.sync import MAX_PAGE, ChangesPage, PushRequest, PushResponse
from posapp.timefmt import utcnow

log = logging.getLogger("posapp.hq")
router = APIRouter(prefix="/v1/sync", tags=["sync"])


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


@router.post(
    "/push",
    operation_id="pushEvents",
    response_model=PushResponse,
    openapi_extra={"requestBody": _json_body(PushRequest)},
)
async def push_events(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    projector: ProjectorDep,
    authorization: Annotated[str | None, Header()] = None,
    x_device_time: Annotated[datetime | None, Header()] = None,
) -> Response:
    # The hot path of a backlog: the credential is checked inside the push's own write
    # transaction (one commit, not two), after a malformed one has been turned away.
    parts = credential(authorization)
    if parts[0] != "d":
        await run_in_threadpool(authenticate, database, settings, authorization)  # 401?
        raise ApiFailure(403, "forbidden", "Only a registered counter may do this.")
    # The body is read and validated straight from bytes by pydantic-core: a batch of
    # 500 events would otherwise be decoded to Python objects first and walked twice.
    try:
        body = PushRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    if any(e.device_id != parts[1] for e in body.events):
        raise ApiFailure(400, "wrong_device", "Events must carry this device's id.")
    answer = await run_in_threadpool(_push, database, settings, body, parts, x_device_time)
    projector.pushed()
    return Response(answer.model_dump_json(), media_type="application/json")


def _push(
    database: HqDatabase,
    settings: HqSettings,
    body: PushRequest,
    parts: Credential,
    device_time: datetime | None,
) -> PushResponse:
    batch = prepare(body.events)  # before the write lock, in parallel with others

    def act(session: Session) -> PushResponse:
        device = identify(session, parts, settings).device
        assert device is not None
        now = utcnow()
        answer = push(session, device=device, batch=batch, now=now)
        if device_time is not None:  # after push(), which reloads the device row locked
            _note_clock(device, device_time, now, settings.clock_skew_warn_s)
        return answer

    return write(database, act, sequenced=False)


def _note_clock(device: Device, device_time: datetime, now: datetime, warn: int) -> None:
    """Keep the counter's clock offset; log once each time it crosses ``warn`` seconds."""
    skew = int((device_time.replace(tzinfo=None) - now).total_seconds())
    was = device.clock_skew_s
    if abs(skew) > warn and (was is None or abs(was) <= warn):
        log.warning("device %s: clock %+d s off HQ's (over %d s)", device.id, skew, warn)
    device.clock_skew_s = skew


@router.get("/changes", operation_id="getChanges", response_model=ChangesPage)
def changes(
    caller: DeviceCaller,
    settings: SettingsDep,
    session: OwnAppliedSession,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
) -> Response:
    assert caller.store_id is not None
    page, next_cursor, more = read_changes(
        session,
        store_id=caller.store_id,
        cursor=cursor,
        limit=min(limit, settings.page_limit * 5),
    )
    answer = ChangesPage(
        changes=page, cursor=next_cursor, has_more=more, hq_time=utcnow().replace(tzinfo=UTC)
    )
    # Serialised once here: a snapshot page holds thousands of members, and letting
    # FastAPI validate the model again would double the cost of every page.
    return Response(answer.model_dump_json(), media_type="application/json")
