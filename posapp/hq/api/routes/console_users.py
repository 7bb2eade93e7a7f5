"""The console's people (brand admin): the list, adding a person, and changing one — role and
stores, deactivate, reactivate, a new password. Routes only route: who may, and the rules
(one active brand admin at least, sessions ended), are ``posapp.hq.console``'s."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from posapp.domain.errors import InvalidInput
from posapp.hq.api.deps import DatabaseDep
from posapp.hq.console import actions, overview, users
from posapp.hq.console.routing import ConsoleRoute, SignedIn, attempt
from posapp.hq.console.users import Role
from posapp.hq.console.web import check_csrf, form_of, page, redirect
from posapp.hq.db import HqDatabase

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)


def _people_page(request: Request, viewer: users.Viewer, database: HqDatabase,
                 error: InvalidInput | None = None, **extra: Any) -> Response:  # fmt: skip
    viewer.require(Role.BRAND_ADMIN)
    with database.read() as session:
        return page(request, "users.html", viewer=viewer, people=users.list_users(session),
                    roles=users.ROLES, stores=overview.visible_stores(session, viewer),
                    error=error, http_status=422 if error else 200, **extra)  # fmt: skip


@router.get("/console/users")
def people(request: Request, viewer: SignedIn, database: DatabaseDep) -> Response:
    return _people_page(request, viewer, database)


@router.post("/console/users")
async def add_person(request: Request, viewer: SignedIn, database: DatabaseDep) -> Response:
    form = await form_of(request)
    check_csrf(viewer, form)
    error = attempt(database, lambda s, now: actions.add_person(s, viewer, form, now))
    if error is not None:
        kept = {k: v for k, v in form.items() if k != "password"}
        return _people_page(request, viewer, database, error, form=kept)
    return redirect("/console/users")


@router.post("/console/users/{user_id}")
async def change_person(
    request: Request, user_id: str, viewer: SignedIn, database: DatabaseDep
) -> Response:
    """Role and stores, deactivate, reactivate or a new password: from the person's next
    request (their sessions end at once when deactivated or given a new password)."""
    form = await form_of(request)
    check_csrf(viewer, form)
    error = attempt(
        database, lambda s, now: actions.change_person(s, viewer, user_id[:64], form, now)
    )
    if error is not None:
        return _people_page(request, viewer, database, error, failed=user_id[:64])
    return redirect("/console/users")
