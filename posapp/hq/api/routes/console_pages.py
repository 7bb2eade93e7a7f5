"""The console's overview, reports, the event log and the audit log. Routes only
route: what may be seen or done is decided by ``posapp.hq.console`` and
``posapp.hq.admin``/``reports``, the API's own services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from posapp.hq import admin
from posapp.hq.api.deps import (
    DatabaseDep,
    ProjectorDep,
    SettingsDep,
    apply_if_quick,
    write,
)
from posapp.hq.console import actions, audit, overview, report_pages, users
from posapp.hq.console.routing import ConsoleRoute, SignedIn, Text, csv_download
from posapp.hq.console.users import Role
from posapp.hq.console.web import page, redirect
from posapp.timefmt import utcnow

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
Days = Annotated[int, Query(ge=1, le=366)]


# --- overview -------------------------------------------------------------------------------


@router.get("/console")
def home(request: Request, viewer: SignedIn, database: DatabaseDep, settings: SettingsDep,
         projector: ProjectorDep) -> Response:  # fmt: skip
    apply_if_quick(projector)
    with database.read() as session:
        seen = overview.overview(
            session, viewer, now=utcnow(), skew_warn_s=settings.clock_skew_warn_s
        )
        return page(request, "overview.html", viewer=viewer, o=seen)


# --- reports --------------------------------------------------------------------------------


def _report(session: Session, viewer: users.Viewer, name: str, store: str | None,
            days: int) -> tuple[str | None, dict[str, Any]]:  # fmt: skip
    if name not in report_pages.NAMES:
        raise admin.NotFound(f"no report {name[:32]}")
    scope = report_pages.report_store(viewer, store)
    return scope, report_pages.answer(session, name, store_id=scope, days=days, now=utcnow())


@router.get("/console/reports")
def reports_index() -> Response:
    return redirect("/console/reports/capture")


@router.get("/console/reports/{name}")
def report(request: Request, name: str, viewer: SignedIn, database: DatabaseDep,
           projector: ProjectorDep, store: Text = None, days: Days = 30) -> Response:  # fmt: skip
    apply_if_quick(projector)
    with database.read() as session:
        scope, data = _report(session, viewer, name, store, days)
        chart = report_pages.chart(name, data)
        return page(request, "report.html", viewer=viewer, name=name, names=report_pages.NAMES,
                    store=scope, days=days, with_days=name in report_pages.WITH_DAYS,
                    tables=report_pages.tables(name, data),
                    chart=chart.as_json() if chart else None,
                    stores=overview.visible_stores(session, viewer))  # fmt: skip


@router.get("/console/reports/{name}/{table}.csv")
def reportcsv_download(name: str, table: str, viewer: SignedIn, database: DatabaseDep,
               projector: ProjectorDep, store: Text = None, days: Days = 30) -> Response:  # fmt: skip
    apply_if_quick(projector)
    with database.read() as session:
        scope, data = _report(session, viewer, name, store, days)
    for part in report_pages.tables(name, data):
        if part.name == table:
            return csv_download(part, f"{name}-{table}-{scope or 'all'}-{days}d")
    raise admin.NotFound(f"no table {table[:32]}")


# --- the event log --------------------------------------------------------------------------


@router.get("/console/events")
def events(request: Request, viewer: SignedIn, database: DatabaseDep, device: Text = None,
           status: Text = None, before: Annotated[int | None, Query(ge=1)] = None) -> Response:  # fmt: skip
    if viewer.role is Role.ANALYST:
        raise users.Forbidden("the event log is for operations")
    with database.read() as session:
        rows, more = overview.event_log(
            session, viewer, device_id=device, status=status, before=before
        )
        return page(request, "events.html", viewer=viewer, rows=rows, more=more, device=device,
                    status=status, counts=overview.event_counts(session, viewer))  # fmt: skip


# --- the audit log (brand admin) -----------------------------------------------------------


@router.get("/console/audit")
def audit_log(request: Request, viewer: SignedIn, database: DatabaseDep,
              before: Annotated[int | None, Query(ge=1)] = None, actor: Text = None) -> Response:  # fmt: skip
    viewer.require(Role.BRAND_ADMIN)
    with database.read() as session:
        rows = audit.entries(session, before=before, actor=actor)
        return page(request, "audit.html", viewer=viewer, rows=rows, actor=actor,
                    more=rows[-1].id if len(rows) == 100 else None)  # fmt: skip


@router.get("/console/audit.csv")
def auditcsv_download(viewer: SignedIn, database: DatabaseDep) -> Response:
    table = write(database, lambda s: actions.export_audit(s, viewer, utcnow()), sequenced=False)
    return csv_download(table, "audit")
