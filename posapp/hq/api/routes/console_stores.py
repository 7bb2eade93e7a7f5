"""The console's stores: devices and their registration codes, staff, and the brand's rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from posapp.domain.errors import InvalidInput
from posapp.hq import admin
from posapp.hq.api.deps import (
    DatabaseDep,
    SettingsDep,
    write,
)
from posapp.hq.console import actions, overview, users
from posapp.hq.console.routing import ConsoleRoute, SignedIn, attempt
from posapp.hq.console.users import Role
from posapp.hq.console.web import check_csrf, form_of, page, redirect
from posapp.hq.models import Staff, Store
from posapp.timefmt import utcnow

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)


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
    error = attempt(database, lambda s, now: added.append(actions.add_store(s, viewer, form, now)))
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
    error = attempt(database, lambda s, now: actions.add_staff(s, viewer, store_id[:64], form, now))
    if error is not None:
        return _store_page(
            request, viewer, database, settings, store_id[:64], error=error, form=form
        )
    return redirect(f"/console/stores/{store_id[:64]}")


@router.post("/console/stores/{store_id}")
async def edit_store(request: Request, store_id: str, viewer: SignedIn, database: DatabaseDep,
                     settings: SettingsDep) -> Response:  # fmt: skip
    form = await form_of(request)
    check_csrf(viewer, form)
    error = attempt(
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
    error = attempt(database, lambda s, now: actions.change_staff(
        s, viewer, store_id[:64], staff_id[:64], form, now))  # fmt: skip
    if error is not None:
        return _store_page(request, viewer, database, settings, store_id[:64], error=error)
    return redirect(f"/console/stores/{store_id[:64]}")


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
    error = attempt(database, lambda s, now: actions.set_rules(s, viewer, kind[:32], form, now))
    if error is not None:
        with database.read() as session:
            return page(request, "rules.html", viewer=viewer, rules=actions.current_rules(session),
                        error=error, failed=kind[:32], http_status=422)  # fmt: skip
    return redirect("/console/rules")


@router.post("/console/rules/ladder/preview")
async def preview_ladder(request: Request, viewer: SignedIn, database: DatabaseDep) -> Response:
    """The ladder form's thresholds, checked as saving them would be, and the members per rung
    they would make: shown beside the form, nothing saved (so nothing on the audit log)."""
    form = await form_of(request)
    check_csrf(viewer, form)
    with database.read() as session:
        rules = actions.current_rules(session)
        try:
            shown, preview = actions.preview_ladder(session, viewer, form, utcnow())
        except InvalidInput as error:
            return page(request, "rules.html", viewer=viewer, rules=rules, error=error,
                        failed="ladder", http_status=422)  # fmt: skip
        return page(request, "rules.html", viewer=viewer, rules={**rules, "ladder": shown},
                    preview=preview)  # fmt: skip
