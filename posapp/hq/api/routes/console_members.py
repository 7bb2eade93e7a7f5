"""The console's members: the directory, a member's page, the audited reveal, the guide,
erasure and the member's own data."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.hq.api.deps import (
    DatabaseDep,
    MasterKey,
    ProjectorDep,
    SmsSenderDep,
    apply_if_quick,
    write,
)
from posapp.hq.console import actions, directory, overview, users
from posapp.hq.console.routing import ConsoleRoute, SignedIn, Text, attempt
from posapp.hq.console.users import Role
from posapp.hq.console.web import SECURITY_HEADERS, check_csrf, form_of, page, redirect
from posapp.hq.erasure import erase_everywhere
from posapp.timefmt import utcnow

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)


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
    error = attempt(database, lambda s, now: actions.change_guide(
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

    erase_everywhere(database, write, member_id=member_id[:64], requested_by=viewer.user_id,
                     master_key=master_key, sender=sender, who=viewer.who)  # fmt: skip
    return redirect(f"/console/members/{member_id[:64]}")


@router.get("/console/members/{member_id}/export.json")
def export(member_id: str, viewer: SignedIn, database: DatabaseDep) -> Response:
    """The member's own data as JSON (PIPL art. 45), for the privacy officer to hand over."""
    data = write(database, lambda s: actions.export_member(s, viewer, member_id[:64], utcnow()),
                 sequenced=False)  # fmt: skip
    return Response(json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={**SECURITY_HEADERS, "Content-Disposition":
                             f'attachment; filename="member-{member_id[:64]}.json"'})  # fmt: skip
