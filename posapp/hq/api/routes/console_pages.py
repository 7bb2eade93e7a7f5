"""The console's screens: overview, stores (devices, staff), members, reports, the event
log, the audit log and HQ's people. Routes only route: what may be seen or done is decided
by ``posapp.hq.console`` and ``posapp.hq.admin``/``reports``, the API's own services."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.table_csv import Table, csv_bytes
from posapp.hq import admin
from posapp.hq.api.deps import (
    DatabaseDep,
    MasterKey,
    ProjectorDep,
    SettingsDep,
    SmsSenderDep,
    apply_if_quick,
    write,
)
from posapp.hq.console import actions, audit, directory, overview, report_pages, users
from posapp.hq.console.routing import ConsoleRoute, SignedIn
from posapp.hq.console.users import Role
from posapp.hq.console.web import SECURITY_HEADERS, check_csrf, form_of, page, redirect
from posapp.hq.erasure import erase_everywhere
from posapp.hq.models import Staff, Store
from posapp.timefmt import utcnow

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
Text = Annotated[str | None, Query(max_length=64)]
Days = Annotated[int, Query(ge=1, le=366)]


def _csv(table: Table, filename: str) -> Response:
    return Response(csv_bytes(table), media_type="text/csv; charset=utf-8", headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}.csv"'})  # fmt: skip


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


# --- stores, devices, staff -----------------------------------------------------------------


@router.get("/console/stores")
def stores(request: Request, viewer: SignedIn, database: DatabaseDep) -> Response:
    with database.read() as session:
        return page(request, "stores.html", viewer=viewer,
                    stores=overview.visible_stores(session, viewer))  # fmt: skip


@router.post("/console/stores")
async def add_store(request: Request, viewer: SignedIn, database: DatabaseDep) -> Response:
    form = await form_of(request)
    check_csrf(viewer, form)
    viewer.require(Role.BRAND_ADMIN)
    added: list[str] = []
    error = _attempt(database, lambda s, now: added.append(actions.add_store(s, viewer, form, now)))
    if error is not None:
        with database.read() as session:
            return page(request, "stores.html", viewer=viewer, http_status=422, error=error,
                        stores=overview.visible_stores(session, viewer), form=form)  # fmt: skip
    return redirect(f"/console/stores/{added[0]}")


def _store_page(request: Request, viewer: users.Viewer, database: Any, settings: Any,
                store_id: str, **extra: Any) -> Response:  # fmt: skip
    viewer.require_store(store_id)
    with database.read() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise admin.NotFound(f"no store {store_id}")
        staff = session.scalars(
            select(Staff).where(Staff.store_id == store_id).order_by(Staff.staff_no)
        ).all()
        lines = overview.devices(session, viewer, now=utcnow(), skew_warn_s=settings.clock_skew_warn_s,
                                 store_id=store_id)  # fmt: skip
        return page(request, "store.html", viewer=viewer, store=store, staff=staff, devices=lines,
                    roles=admin.ROLES, http_status=422 if extra.get("error") else 200, **extra)  # fmt: skip


@router.get("/console/stores/{store_id}")
def store(request: Request, store_id: str, viewer: SignedIn, database: DatabaseDep,
          settings: SettingsDep) -> Response:  # fmt: skip
    return _store_page(request, viewer, database, settings, store_id[:64])


@router.post("/console/stores/{store_id}/code")
async def device_code(request: Request, store_id: str, viewer: SignedIn, database: DatabaseDep,
                      settings: SettingsDep) -> Response:  # fmt: skip
    """A one-time registration code for a new counter, shown once on the store's page."""
    form = await form_of(request)
    check_csrf(viewer, form)
    code = write(database, lambda s: actions.device_code(s, viewer, store_id[:64], utcnow(),
                                                         settings.device_code_minutes))  # fmt: skip
    return _store_page(request, viewer, database, settings, store_id[:64], code=code,
                       code_minutes=settings.device_code_minutes)  # fmt: skip


@router.post("/console/stores/{store_id}/staff")
async def add_staff(request: Request, store_id: str, viewer: SignedIn, database: DatabaseDep,
                    settings: SettingsDep) -> Response:  # fmt: skip
    form = await form_of(request)
    check_csrf(viewer, form)
    error = _attempt(
        database, lambda s, now: actions.add_staff(s, viewer, store_id[:64], form, now)
    )
    if error is not None:
        return _store_page(
            request, viewer, database, settings, store_id[:64], error=error, form=form
        )
    return redirect(f"/console/stores/{store_id[:64]}")


# --- members --------------------------------------------------------------------------------


@router.get("/console/members")
def members(
    request: Request,
    viewer: SignedIn,
    database: DatabaseDep,
    projector: ProjectorDep,
    q: Text = None,
    store: Text = None,
    rung: Text = None,
    guide: Text = None,
    visited: Annotated[int | None, Query(ge=1, le=3660)] = None,
    after: Text = None,
) -> Response:
    apply_if_quick(projector)
    if q:  # a phone search is audited: a write

        def act(session: Session) -> list[directory.MemberRow]:
            return directory.search(session, viewer, q, now=utcnow())

        found = write(database, act, sequenced=False)
        return page(request, "members.html", viewer=viewer, rows=found, q=q, more=None, filters={})
    filters = {"store": store, "rung": rung, "guide": guide, "visited": visited}
    with database.read() as session:
        rows, more = directory.browse(session, viewer, store_id=store, rung=rung, guide_id=guide,
                                      visited_days=visited, after=after, now=utcnow())  # fmt: skip
        return page(request, "members.html", viewer=viewer, rows=rows, q="", more=more,
                    filters=filters, stores=overview.visible_stores(session, viewer))  # fmt: skip


@router.get("/console/members/{member_id}")
def member(request: Request, member_id: str, viewer: SignedIn, database: DatabaseDep,
           projector: ProjectorDep) -> Response:  # fmt: skip
    apply_if_quick(projector)
    with database.read() as session:
        shown = directory.member_page(session, viewer, member_id, now=utcnow())
        return page(request, "member.html", viewer=viewer, m=shown)


@router.post("/console/members/{member_id}/reveal")
async def reveal(
    request: Request, member_id: str, viewer: SignedIn, database: DatabaseDep
) -> Response:
    """The full phone, for the privacy officer: written to the audit log before it is shown."""
    form = await form_of(request)
    check_csrf(viewer, form)

    def act(session: Session) -> Response:
        shown = directory.member_page(session, viewer, member_id, now=utcnow(), reveal=True)
        return page(request, "member.html", viewer=viewer, m=shown)

    return write(database, act, sequenced=False)


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
def report_csv(name: str, table: str, viewer: SignedIn, database: DatabaseDep,
               projector: ProjectorDep, store: Text = None, days: Days = 30) -> Response:  # fmt: skip
    apply_if_quick(projector)
    with database.read() as session:
        scope, data = _report(session, viewer, name, store, days)
    for part in report_pages.tables(name, data):
        if part.name == table:
            return _csv(part, f"{name}-{table}-{scope or 'all'}-{days}d")
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


# --- the audit log and HQ's people (brand admin) --------------------------------------------


@router.get("/console/audit")
def audit_log(request: Request, viewer: SignedIn, database: DatabaseDep,
              before: Annotated[int | None, Query(ge=1)] = None, actor: Text = None) -> Response:  # fmt: skip
    viewer.require(Role.BRAND_ADMIN)
    with database.read() as session:
        rows = audit.entries(session, before=before, actor=actor)
        return page(request, "audit.html", viewer=viewer, rows=rows, actor=actor,
                    more=rows[-1].id if len(rows) == 100 else None)  # fmt: skip


@router.get("/console/audit.csv")
def audit_csv(viewer: SignedIn, database: DatabaseDep) -> Response:
    table = write(database, lambda s: actions.export_audit(s, viewer, utcnow()), sequenced=False)
    return _csv(table, "audit")


@router.get("/console/users")
def people(request: Request, viewer: SignedIn, database: DatabaseDep) -> Response:
    viewer.require(Role.BRAND_ADMIN)
    with database.read() as session:
        return page(request, "users.html", viewer=viewer, people=users.list_users(session),
                    roles=users.ROLES, stores=overview.visible_stores(session, viewer))  # fmt: skip


@router.post("/console/users")
async def add_person(request: Request, viewer: SignedIn, database: DatabaseDep) -> Response:
    form = await form_of(request)
    check_csrf(viewer, form)
    error = _attempt(database, lambda s, now: actions.add_person(s, viewer, form, now))
    if error is not None:
        with database.read() as session:
            return page(request, "users.html", viewer=viewer, people=users.list_users(session),
                        roles=users.ROLES, stores=overview.visible_stores(session, viewer),
                        error=error, form={k: v for k, v in form.items() if k != "password"},
                        http_status=422)  # fmt: skip
    return redirect("/console/users")


# --- changes made through posapp.hq.console.actions -----------------------------------------


def _attempt(database: Any, change: Callable[[Session, datetime], Any]) -> InvalidInput | None:
    """Run one change in its transaction; a refused input rolls all of it back and is shown."""
    try:
        write(database, lambda session: change(session, utcnow()))
    except InvalidInput as exc:
        return exc
    return None


@router.post("/console/stores/{store_id}")
async def edit_store(request: Request, store_id: str, viewer: SignedIn, database: DatabaseDep,
                     settings: SettingsDep) -> Response:  # fmt: skip
    form = await form_of(request)
    check_csrf(viewer, form)
    error = _attempt(
        database, lambda s, now: actions.edit_store(s, viewer, store_id[:64], form, now)
    )
    if error is not None:
        return _store_page(request, viewer, database, settings, store_id[:64], error=error)
    return redirect(f"/console/stores/{store_id[:64]}")


@router.post("/console/stores/{store_id}/staff/{staff_id}")
async def change_staff(request: Request, store_id: str, staff_id: str, viewer: SignedIn,
                       database: DatabaseDep, settings: SettingsDep) -> Response:  # fmt: skip
    """Role, deactivate or reactivate, or a new PIN: the store's counters learn it on sync."""
    form = await form_of(request)
    check_csrf(viewer, form)
    error = _attempt(database, lambda s, now: actions.change_staff(
        s, viewer, store_id[:64], staff_id[:64], form, now))  # fmt: skip
    if error is not None:
        return _store_page(request, viewer, database, settings, store_id[:64], error=error)
    return redirect(f"/console/stores/{store_id[:64]}")


def _member_page(request: Request, viewer: users.Viewer, database: Any, member_id: str,
                 **extra: Any) -> Response:  # fmt: skip
    with database.read() as session:
        shown = directory.member_page(session, viewer, member_id, now=utcnow())
        return page(request, "member.html", viewer=viewer, m=shown,
                    http_status=422 if extra.get("error") else 200, **extra)  # fmt: skip


@router.post("/console/members/{member_id}/guide")
async def change_guide(request: Request, member_id: str, viewer: SignedIn, database: DatabaseDep,
                       projector: ProjectorDep) -> Response:  # fmt: skip
    form = await form_of(request)
    check_csrf(viewer, form)
    apply_if_quick(projector)
    error = _attempt(database, lambda s, now: actions.change_guide(
        s, viewer, member_id[:64], form.get("guide_id", ""), now))  # fmt: skip
    if error is not None:
        return _member_page(request, viewer, database, member_id[:64], error=error)
    return redirect(f"/console/members/{member_id[:64]}")


@router.post("/console/members/{member_id}/erase")
async def erase(request: Request, member_id: str, viewer: SignedIn, database: DatabaseDep,
                master_key: MasterKey, sender: SmsSenderDep, projector: ProjectorDep) -> Response:  # fmt: skip
    """Erase (the member code typed again to confirm); each store's acknowledgement then
    shows on the member page as it arrives."""
    form = await form_of(request)
    check_csrf(viewer, form)
    viewer.require(Role.BRAND_ADMIN, Role.PRIVACY_OFFICER)
    apply_if_quick(projector)
    with database.read() as session:
        member = directory.require_member(session, viewer, member_id[:64])
        code = member.member_code
    if form.get("confirm", "").strip() != code:
        return _member_page(request, viewer, database, member_id[:64],
                            error=InvalidInput("confirm", "mismatch", "Type the member code to confirm."))  # fmt: skip

    def record(session: Session, done: admin.ErasureResult) -> None:
        audit.record(session, actor=viewer.user_id, action="member.erase", now=utcnow(),
                     target=done.member_id, address=viewer.address, stores=done.stores)  # fmt: skip

    erase_everywhere(database, write, member_id=member_id[:64], requested_by=viewer.user_id,
                     master_key=master_key, sender=sender, also=record)  # fmt: skip
    return redirect(f"/console/members/{member_id[:64]}")


@router.get("/console/members/{member_id}/export.json")
def export(member_id: str, viewer: SignedIn, database: DatabaseDep) -> Response:
    """The member's own data as JSON (PIPL art. 45), for the privacy officer to hand over."""
    data = write(database, lambda s: actions.export_member(s, viewer, member_id[:64], utcnow()),
                 sequenced=False)  # fmt: skip
    return Response(json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={**SECURITY_HEADERS, "Content-Disposition":
                             f'attachment; filename="member-{member_id[:64]}.json"'})  # fmt: skip


@router.get("/console/rules")
def rules(request: Request, viewer: SignedIn, database: DatabaseDep) -> Response:
    viewer.require(Role.BRAND_ADMIN)
    with database.read() as session:
        return page(request, "rules.html", viewer=viewer, rules=actions.current_rules(session))


@router.post("/console/rules/{kind}")
async def set_rules(
    request: Request, kind: str, viewer: SignedIn, database: DatabaseDep
) -> Response:
    form = await form_of(request)
    check_csrf(viewer, form)
    error = _attempt(database, lambda s, now: actions.set_rules(s, viewer, kind[:32], form, now))
    if error is not None:
        with database.read() as session:
            return page(request, "rules.html", viewer=viewer, rules=actions.current_rules(session),
                        error=error, failed=kind[:32], http_status=422)  # fmt: skip
    return redirect("/console/rules")
