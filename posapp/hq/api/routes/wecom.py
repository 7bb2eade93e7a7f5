"""WeCom's callback (企业微信 接收事件服务器): ``GET`` verifies the URL, ``POST`` delivers an
event. Both answer at once; what the event means is worked behind the answer
(``posapp.hq.wecom``). And the admin's side: a guide's WeCom userid, a guide who left.
Served only while WeCom is configured: otherwise 404 (callback) or 409 (admin)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from posapp.hq.admin import NotFound
from posapp.hq.api.deps import AdminActor, ReportScope, SessionDep
from posapp.hq.api.errors import ApiFailure
from posapp.hq.wecom.errors import BadSignature
from posapp.hq.wecom.report import wecom_report
from posapp.hq.wecom.schemas import GuideUserid, GuideWeCom, WeComReport
from posapp.hq.wecom.service import WeComService
from posapp.timefmt import utcnow

router = APIRouter(tags=["wecom"])
PATH = "/wecom/callback"
StaffId = Annotated[str, Path(min_length=1, max_length=64)]


def _service(request: Request) -> WeComService:
    service: WeComService | None = getattr(request.app.state, "wecom", None)
    if service is None:
        raise ApiFailure(404, "not_found", "There is nothing at this address.")
    return service


def _forged() -> ApiFailure:
    return ApiFailure(403, "forbidden", "Not signed by this corp's WeCom callback token.")


@router.get(PATH, include_in_schema=False, response_class=PlainTextResponse)
async def verify(request: Request) -> PlainTextResponse:
    service = _service(request)
    try:
        plain = service.verify(request.query_params)
    except BadSignature:
        raise _forged() from None
    return PlainTextResponse(plain)


@router.post(PATH, include_in_schema=False, response_class=PlainTextResponse)
async def deliver(request: Request) -> PlainTextResponse:
    service = _service(request)
    body = await request.body()
    try:
        await run_in_threadpool(service.accept, request.query_params, body)
    except BadSignature:
        raise _forged() from None
    worker = getattr(request.app.state, "wecom_worker", None)
    if worker is not None:
        worker.kick()
    return PlainTextResponse("success")


def _configured(request: Request) -> WeComService:
    service: WeComService | None = getattr(request.app.state, "wecom", None)
    if service is None:
        raise ApiFailure(409, "wecom_off", "WeCom is not configured at this HQ.")
    return service


@router.put("/v1/staff/{staff_id}/wecom", operation_id="setGuideWeComUserid")
def set_userid(
    staff_id: StaffId, body: GuideUserid, who: AdminActor, request: Request
) -> GuideWeCom:
    """Connect a guide to their WeCom account; their card's contact QR follows (made again
    when the userid changes). The userid is kept even while WeCom refuses or is down."""
    service = _configured(request)
    try:
        card = service.set_userid(staff_id, body.userid, who=who)
    except LookupError:
        raise NotFound(f"no staff {staff_id}") from None
    return GuideWeCom(staff_id=staff_id, userid=body.userid, departed=False,
                      card_qr=card.qr_code, rule=card.rule)  # fmt: skip


@router.post("/v1/staff/{staff_id}/wecom/departed", operation_id="markGuideDeparted")
def departed(staff_id: StaffId, who: AdminActor, request: Request) -> GuideWeCom:
    """The guide left: their customers move through WeCom's resigned transfer when HQ
    reassigns them (``posapp hq assign``, the API, a store's request)."""
    service = _configured(request)
    found = service.departed(staff_id, who=who)
    if found is None:
        raise NotFound(f"no WeCom account for staff {staff_id}")
    return GuideWeCom(staff_id=staff_id, userid=found, departed=True)


@router.get("/v1/reports/wecom", operation_id="getWeComReport", tags=["reports"])
def report(
    store: ReportScope, session: SessionDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> WeComReport:
    """Per store and guide: invites shown → contacts added → still contacts after 30 days;
    removals; transfers done and refused (empty while WeCom is not configured)."""
    now = utcnow()
    until = now + timedelta(seconds=1)
    return wecom_report(session, store_id=store, since=until - timedelta(days=days),
                        until=until, now=now)  # fmt: skip
