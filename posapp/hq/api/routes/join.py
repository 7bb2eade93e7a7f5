"""The customer's join page behind every invite URL: ``/j/<token>`` (a store's invite) and
``/g/<token>`` (a guide's), shown and posted. What it does is ``posapp.hq.join``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from posapp.hq.api.deps import DatabaseDep, MasterKey, ProjectorDep, SettingsDep, SmsSenderDep
from posapp.hq.join import JoinDesk

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
PATHS = ("/j/{token}", "/g/{token}")


async def join_desk(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    master_key: MasterKey,
    sender: SmsSenderDep,
    projector: ProjectorDep,
) -> JoinDesk:
    return JoinDesk(database, settings, master_key, sender, projector, request.app.state.wecom)


Desk = Annotated[JoinDesk, Depends(join_desk)]


def show(request: Request, token: str, desk: Desk) -> HTMLResponse:
    return desk.show(request, token[:64])


async def submit(request: Request, token: str, desk: Desk) -> HTMLResponse:
    body = await request.body()
    return await run_in_threadpool(desk.submit, request, token[:64], body)


for path in PATHS:
    router.add_api_route(path, show, methods=["GET"])
    router.add_api_route(path, submit, methods=["POST"])
