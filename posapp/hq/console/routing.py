"""What every console route stands on: who is signed in (``SignedIn``), and one route
class that turns a refusal into a page (sign in, not allowed, not found, stale form).

A refusal is decided by the services (``users.Viewer``); this only shows it — and writes
each refused attempt to the audit log, so probing other stores by URL leaves a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.responses import Response

from posapp.domain.errors import InvalidInput
from posapp.domain.table_csv import Table, csv_bytes
from posapp.hq import admin
from posapp.hq.api.deps import DatabaseDep, SettingsDep, address_of, write
from posapp.hq.console import audit, users
from posapp.hq.console.web import SECURITY_HEADERS, SESSION_COOKIE, BadForm, page, redirect
from posapp.hq.db import HqDatabase
from posapp.hq.proxies import is_https
from posapp.timefmt import utcnow

log = logging.getLogger("posapp.hq")
LOGIN = "/console/login"


class NeedsSignIn(Exception):
    pass


def https_of(request: Request) -> bool:
    return is_https(request, request.app.state.settings.trusted_networks)


def signed_in(request: Request, database: DatabaseDep, settings: SettingsDep) -> users.Viewer:
    """The signed-in person (both factors done), or a redirect to the login page."""
    token = request.cookies.get(SESSION_COOKIE)
    now = utcnow()
    with database.transaction() as session:
        found = users.find_session(session, token, now=now)
        if found is None or not found.row.second_factor_done:
            raise NeedsSignIn()
        users.touch(session, str(token), now=now)
        viewer = users.viewer_of(session, found)
    return replace(viewer, address=address_of(request))


SignedIn = Annotated[users.Viewer, Depends(signed_in)]


Text = Annotated[str | None, Query(max_length=64)]


def csv_download(table: Table, filename: str) -> Response:
    return Response(csv_bytes(table), media_type="text/csv; charset=utf-8", headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}.csv"'})  # fmt: skip


def attempt(
    database: HqDatabase, change: Callable[[Session, datetime], Any]
) -> InvalidInput | None:
    """Run one change in its transaction; a refused input rolls all of it back and is shown."""
    try:
        write(database, lambda session: change(session, utcnow()))
    except InvalidInput as exc:
        return exc
    return None


def _refused(request: Request, reason: str, status: int) -> Response:
    return page(request, "refused.html", viewer=None, http_status=status, reason=reason)


def _audit_refusal(request: Request, reason: str) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    now = utcnow()
    with request.app.state.db.transaction() as session:
        found = users.find_session(session, token, now=now)
        audit.record(session, actor=found.user.id if found else "-", action="refused", now=now,
                     target=request.url.path[:128], address=address_of(request),
                     reason=reason[:200])  # fmt: skip


class ConsoleRoute(APIRoute):
    """A console route: refusals become pages, never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except NeedsSignIn:
                return redirect(LOGIN)
            except users.Forbidden as exc:
                _audit_refusal(request, str(exc))
                return _refused(request, "forbidden", 403)
            except BadForm as exc:
                _audit_refusal(request, f"form: {exc}")
                return _refused(request, "bad_form", 403)
            except admin.NotFound:
                return _refused(request, "not_found", 404)

        return guarded
