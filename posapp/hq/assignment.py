"""Assigning customers to guides at HQ, and the follow-ups stores report.

HQ owns assignments: an administrator (API, ``posapp hq assign``) or a store manager's
request (an ``assignment.requested`` event) changes a member's guide here, and the member's
new data flows to every store that holds them through the changes feed. Every change is
kept, because WeCom's limit (two transfers in 90 days) is counted from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain.assignment import next_transfer_allowed, transfers_in_window
from posapp.domain.errors import InvalidInput
from posapp.domain.roles import may_guide
from posapp.hq.admin import NotFound
from posapp.hq.console.audit import Who
from posapp.hq.members import settle_members
from posapp.hq.models import Assignment, Member, MemberAlias, MemberStore, Staff

# session.info: the members whose guide this transaction changed; once it commits, HQ's
# WeCom worker (posapp.hq.wecom.worker) moves those who are WeCom contacts to the new guide.
REASSIGNED = "posapp.reassigned"


class TransferLimit(InvalidInput):
    """WeCom would refuse this transfer: the customer was moved twice in the last 90 days."""

    def __init__(self, allowed_from: datetime) -> None:
        super().__init__(
            "guide",
            "transfer_limit",
            "This customer was already transferred to another guide twice in the last 90 days;"
            f" WeCom allows no further transfer before {allowed_from:%Y-%m-%d %H:%M} UTC.",
        )
        self.allowed_from = allowed_from


@dataclass(frozen=True, slots=True)
class Assigned:
    member_id: str
    from_guide_id: str | None
    to_guide_id: str
    changed: bool
    transfers_in_window: int  # transfers counted against the limit, this one included


def member_by_code(session: Session, code: str) -> Member | None:
    """The one member a code names: their own code, or the code of an enrolment merged into
    them. Both are unique (a clash is refused at the store's event), so there is no choice."""
    if not code:
        return None
    return session.scalar(select(Member).where(Member.member_code == code)) or session.scalar(
        select(Member)
        .join(MemberAlias, MemberAlias.member_id == Member.id)
        .where(MemberAlias.member_code == code)
    )


def find_member(session: Session, ref: str) -> Member:
    """A member by id, member code, or the code of an enrolment merged into them."""
    member = session.get(Member, ref) or member_by_code(session, ref)
    if member is None:
        raise NotFound(f"no member {ref[:64]}")
    return member


def assign_guide(
    session: Session,
    *,
    member_id: str,
    guide_id: str,
    now: datetime,
    requested_by: str,
    source: str = "admin",
    store_id: str | None = None,
    announce: bool = True,
    who: Who | None = None,
) -> Assigned:
    """Give a member to a guide, refusing a third transfer within WeCom's 90 days.

    ``store_id``: the store asking (a manager's request), whose own guides only it may name.
    ``announce`` False when the caller settles the member itself (the Applier, once per run).
    Every check comes before the first write. ``who``: the person or machine asking, for
    the audit log (a store's request is its event's, and has none).
    """
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"no member {member_id[:64]}")
    if member.erased_at is not None:
        raise InvalidInput("member", "erased", "This member's data has been erased.")
    guide = session.get(Staff, guide_id)
    if guide is None or not guide.active or not may_guide(guide.role):
        raise InvalidInput("guide", "unknown", "No active guide with this id.")
    if store_id is not None and guide.store_id != store_id:
        raise InvalidInput("guide", "other_store", "A store may only name its own guides.")
    earlier = list(
        session.scalars(
            select(Assignment.assigned_at).where(
                Assignment.member_id == member.id, Assignment.from_guide_id.is_not(None)
            )
        )
    )
    counted = len(transfers_in_window(earlier, now))
    previous = member.guide_id
    if who is not None:  # refused below: rolled back with the change
        who.record(session, action="member.guide", now=now, target=member.id,
                   store_id=guide.store_id, guide_id=guide.id, previous=previous)  # fmt: skip
    if previous == guide_id:
        return Assigned(member.id, previous, guide_id, False, counted)
    if previous is not None:
        allowed_from = next_transfer_allowed(earlier, now)
        if allowed_from is not None:
            raise TransferLimit(allowed_from)
        counted += 1
    session.add(
        Assignment(
            member_id=member.id, from_guide_id=previous, to_guide_id=guide_id, source=source,
            requested_by=requested_by[:64], store_id=store_id, assigned_at=now,
        )
    )  # fmt: skip
    member.guide_id = guide_id
    member.updated_at = now
    if session.get(MemberStore, (member.id, guide.store_id)) is None:
        session.add(MemberStore(member_id=member.id, store_id=guide.store_id))  # the guide's store
    session.flush()
    session.info.setdefault(REASSIGNED, set()).add(member.id)
    if announce:
        settle_members(session, {member.id}, now=now)  # a guide can make a regular
    return Assigned(member.id, previous, guide_id, True, counted)
