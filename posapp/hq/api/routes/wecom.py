"""WeCom's callback (企业微信 接收事件服务器): ``GET`` verifies the URL, ``POST`` delivers an
event. Both answer at once; what the event means is worked behind the answer
(``posapp.hq.wecom``). Served only while WeCom is configured: otherwise 404."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from posapp.hq.api.errors import ApiFailure
from posapp.hq.wecom.errors import BadSignature
from posapp.hq.wecom.service import WeComService

router = APIRouter(include_in_schema=False, default_response_class=PlainTextResponse)
PATH = "/wecom/callback"


def _service(request: Request) -> WeComService:
    service: WeComService | None = getattr(request.app.state, "wecom", None)
    if service is None:
        raise ApiFailure(404, "not_found", "There is nothing at this address.")
    return service


def _forged() -> ApiFailure:
    return ApiFailure(403, "forbidden", "Not signed by this corp's WeCom callback token.")


@router.get(PATH)
async def verify(request: Request) -> PlainTextResponse:
    service = _service(request)
    try:
        plain = service.verify(request.query_params)
    except BadSignature:
        raise _forged() from None
    return PlainTextResponse(plain)


@router.post(PATH)
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
