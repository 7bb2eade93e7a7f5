"""A counter recognises a member of another store by one full phone or code; admins read
who looked whom up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from posapp.hq import lookup as lookups
from posapp.hq.api.deps import (
    AdminCaller,
    Applied,
    DatabaseDep,
    DeviceCaller,
    SessionDep,
    SettingsDep,
)
from posapp.hq.schemas import LookupRecord
from posapp.protocol.sync import MemberLookupAnswer, MemberLookupRequest
from posapp.timefmt import utcnow

router = APIRouter(prefix="/v1", tags=["members"])


@router.post("/members/lookup", operation_id="lookUpMember")
def look_up(
    body: MemberLookupRequest,
    caller: DeviceCaller,
    _: Applied,
    database: DatabaseDep,
    settings: SettingsDep,
) -> MemberLookupAnswer:
    """The brand's member with this full phone or member code (none: ``member`` is null)."""
    return lookups.serve(
        database,
        device_id=caller.ident,
        store_id=str(caller.store_id),
        request=body,
        limit=settings.lookup_limit_per_minute,
        now=utcnow(),
    )


@router.get("/admin/lookups", operation_id="listMemberLookups")
def lookups_made(
    caller: AdminCaller,
    session: SessionDep,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    member_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[LookupRecord]:
    """The latest look-ups, newest first: which counter asked, for whom, when, how."""
    return lookups.recent_lookups(session, device_id=device_id, member_id=member_id, limit=limit)
