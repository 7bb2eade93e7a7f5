"""An admin erases a member, reads their erasure and consents, gives them to a guide."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from posapp.hq import admin, assignment
from posapp.hq.api.deps import (
    AdminActor,
    AdminCaller,
    Applied,
    AppliedSession,
    DatabaseDep,
    MasterKey,
    SmsSenderDep,
    write,
)
from posapp.hq.erasure import erase_everywhere
from posapp.hq.schemas import ConsentHistory, ErasureDone, ErasureStatus, GuideAssigned
from posapp.timefmt import utcnow

log = logging.getLogger("posapp.hq")
router = APIRouter(prefix="/v1/members", tags=["members"])
MemberId = Annotated[str, Path(max_length=64)]


class AssignRequest(BaseModel):
    guide_id: str = Field(min_length=1, max_length=64)


@router.post("/{member_id}/erase", operation_id="eraseMember")
def erase(
    member_id: MemberId,
    caller: AdminCaller,
    who: AdminActor,
    _: Applied,
    database: DatabaseDep,
    master_key: MasterKey,
    sender: SmsSenderDep,
) -> ErasureDone:
    done = erase_everywhere(database, write, member_id=member_id, requested_by=caller.ident,
                            master_key=master_key, sender=sender, who=who)  # fmt: skip
    return ErasureDone(
        member_id=done.member_id, erased_at=done.erased_at.isoformat(), stores=done.stores
    )


@router.get("/{member_id}/erasure", operation_id="getErasure")
def erasure(member_id: MemberId, caller: AdminCaller, session: AppliedSession) -> ErasureStatus:
    return admin.erasure_status(session, member_id)


@router.get("/{member_id}/consents", operation_id="getMemberConsents")
def consents(member_id: MemberId, caller: AdminCaller, session: AppliedSession) -> ConsentHistory:
    """A member's consent history: each decision with its store, staff, notice and time."""
    return admin.consent_history(session, member_id)


@router.post("/{member}/guide", operation_id="assignGuide")
def assign_guide(
    member: Annotated[str, Path(min_length=1, max_length=64)],
    body: AssignRequest,
    caller: AdminCaller,
    who: AdminActor,
    _: Applied,
    database: DatabaseDep,
) -> GuideAssigned:
    """Give a customer (id or member code) to a guide; a third transfer in 90 days is 409."""

    def act(session: Session) -> GuideAssigned:
        found = assignment.find_member(session, member)
        done = assignment.assign_guide(
            session, member_id=found.id, guide_id=body.guide_id, now=utcnow(),
            requested_by=caller.ident, who=who,
        )  # fmt: skip
        return GuideAssigned(
            member_id=done.member_id,
            guide_id=done.to_guide_id,
            previous_guide_id=done.from_guide_id,
            changed=done.changed,
            transfers_in_window=done.transfers_in_window,
        )

    return write(database, act)
