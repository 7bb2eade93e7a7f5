"""Members as the console shows them: found by code, name prefix or (roles permitting) full
phone; listed a page at a time by keyset; each shown with exactly what the viewer may see.

An analyst sees codes and figures, never a name or phone; a regional manager only members
held by their stores, with phones masked; the privacy officer and the brand admin may see a
full phone, and every time they do it is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from posapp.domain.assignment import next_transfer_allowed, transfers_in_window
from posapp.domain.errors import InvalidInput
from posapp.domain.member_code import is_member_code
from posapp.domain.phone import mask_phone, parse_mobile
from posapp.hq import admin
from posapp.hq.assignment import member_by_code
from posapp.hq.console import audit
from posapp.hq.console.users import Forbidden, Viewer
from posapp.hq.models import Assignment, Member, MemberAlias, MemberStore, RungChange, Sale

PAGE = 50
HIDDEN = "•••"


@dataclass(frozen=True)
class MemberRow:
    id: str
    member_code: str
    name: str
    phone: str
    rung: str
    visits: int
    spend_fen: int
    last_visit_at: datetime | None
    enrolled_at: datetime
    guide_id: str | None
    home_store_id: str | None
    erased: bool


def shown(viewer: Viewer, m: Member, *, reveal: bool = False) -> MemberRow:
    """The member as this viewer may see them (``reveal``: the full phone, already audited)."""
    if not viewer.sees_personal_data:
        name, phone = HIDDEN, HIDDEN
    else:
        name = m.name or ""
        full = reveal and viewer.may_reveal_phone
        phone = (m.phone_e164 if full else mask_phone(m.phone_e164)) if m.phone_e164 else ""
    return MemberRow(m.id, m.member_code, name, phone, m.rung, m.visit_count,
                     m.lifetime_spend_fen, m.last_visit_at, m.enrolled_at, m.guide_id,
                     m.home_store_id, m.erased_at is not None)  # fmt: skip


def _scoped(query: Any, viewer: Viewer) -> Any:
    if viewer.stores is None:
        return query
    return query.where(
        exists().where(MemberStore.member_id == Member.id, MemberStore.store_id.in_(viewer.stores))
    )


def stores_of(session: Session, member_id: str) -> list[str]:
    return sorted(
        session.scalars(select(MemberStore.store_id).where(MemberStore.member_id == member_id))
    )


def require_member(session: Session, viewer: Viewer, member_id: str) -> Member:
    """The member, if the viewer may open them: a regional manager only their stores' members."""
    member = session.get(Member, member_id[:64])
    if member is None:
        raise admin.NotFound(f"no member {member_id[:64]}")
    if viewer.stores is not None and not set(stores_of(session, member.id)) & viewer.stores:
        raise Forbidden(f"member {member.id} is outside {viewer.username}'s stores")
    return member


def _looks_like_phone(text: str) -> bool:
    digits = [c for c in text if c.isdigit()]
    return len(digits) >= 7 and all(c.isdigit() or c in "+ -()" for c in text)


def search(session: Session, viewer: Viewer, text: str, *, now: datetime) -> list[MemberRow]:
    """By member code, full phone (privacy officer, brand admin: audited) or name prefix."""
    text = text.strip()[:64]
    if not text:
        return []
    if is_member_code(text):
        by_code = member_by_code(session, text)
        if by_code is None:
            return []
        query = select(Member).where(Member.id == by_code.id)
        return [shown(viewer, m) for m in session.scalars(_scoped(query, viewer))]
    if _looks_like_phone(text):
        if not viewer.may_reveal_phone:
            raise Forbidden("search by phone is for the privacy officer")
        try:
            e164 = parse_mobile(text)
        except InvalidInput:
            return []
        found = list(
            session.scalars(_scoped(select(Member).where(Member.phone_e164 == e164), viewer))
        )
        audit.record(session, actor=viewer.user_id, action="member.search_phone", now=now,
                     address=viewer.address, found=[m.id for m in found])  # fmt: skip
        return [shown(viewer, m, reveal=True) for m in found]
    if not viewer.sees_personal_data:
        return []
    prefix = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(Member).where(Member.name.like(prefix + "%", escape="\\"))
    found = session.scalars(_scoped(query, viewer).order_by(Member.name, Member.id).limit(PAGE))
    return [shown(viewer, m) for m in found]


def browse(
    session: Session,
    viewer: Viewer,
    *,
    store_id: str | None = None,
    rung: str | None = None,
    guide_id: str | None = None,
    visited_days: int | None = None,
    after: str | None = None,
    now: datetime,
) -> tuple[list[MemberRow], str | None]:
    """One page of members in id order, from ``after`` (keyset: page 1,000 costs as page 1);
    the id to continue from, if there is more."""
    query = select(Member).where(Member.erased_at.is_(None))
    if store_id:
        viewer.require_store(store_id)
        query = query.where(
            exists().where(MemberStore.member_id == Member.id, MemberStore.store_id == store_id)
        )
    if rung:
        query = query.where(Member.rung == rung)
    if guide_id:
        query = query.where(Member.guide_id == guide_id)
    if visited_days:
        query = query.where(Member.last_visit_at >= now - timedelta(days=visited_days))
    if after:
        query = query.where(Member.id > after)
    rows = list(session.scalars(_scoped(query, viewer).order_by(Member.id).limit(PAGE + 1)))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return [shown(viewer, m) for m in rows], rows[-1].id if more and rows else None


@dataclass(frozen=True)
class MemberPage:
    member: MemberRow
    birthday: str
    stores: list[str]
    consents: list[dict[str, Any]]
    purchases: list[Sale]
    assignments: list[Assignment]
    erasure: dict[str, Any] | None
    merged: list[MemberAlias]  # enrolments at other counters found to be this member
    transfers: int  # in WeCom's 90-day window: a third is refused
    next_transfer: datetime | None  # when one is allowed again, if not now
    rung_moves: list[RungChange] = field(default_factory=list)  # newest first


def member_page(
    session: Session, viewer: Viewer, member_id: str, *, now: datetime, reveal: bool = False
) -> MemberPage:
    """Everything the console shows of one member; a reveal of the phone is audited here."""
    member = require_member(session, viewer, member_id)
    if reveal:
        if not viewer.may_reveal_phone:
            raise Forbidden("revealing a phone is for the privacy officer")
        audit.record(session, actor=viewer.user_id, action="member.reveal_phone", now=now,
                     target=member.id, address=viewer.address)  # fmt: skip
    consents = admin.consent_history(session, member.id)["consents"]
    purchases = list(session.scalars(
        select(Sale).where(Sale.member_id == member.id).order_by(Sale.occurred_at.desc()).limit(PAGE)
    ))  # fmt: skip
    moves = list(session.scalars(
        select(Assignment).where(Assignment.member_id == member.id).order_by(Assignment.assigned_at)
    ))  # fmt: skip
    try:
        erasure: dict[str, Any] | None = dict(admin.erasure_status(session, member.id))
    except admin.NotFound:
        erasure = None
    birthday = f"{member.birthday:%m-%d}" if member.birthday and viewer.sees_personal_data else ""
    earlier = [a.assigned_at for a in moves if a.from_guide_id is not None]
    merged = list(session.scalars(
        select(MemberAlias).where(MemberAlias.member_id == member.id, MemberAlias.local_id != member.id)
        .order_by(MemberAlias.store_id, MemberAlias.local_id)
    ))  # fmt: skip
    rung_moves = list(session.scalars(
        select(RungChange).where(RungChange.member_id == member.id)
        .order_by(RungChange.id.desc()).limit(PAGE)
    ))  # fmt: skip
    return MemberPage(shown(viewer, member, reveal=reveal), birthday, stores_of(session, member.id),
                      consents, purchases, moves, erasure, merged, len(transfers_in_window(earlier, now)),
                      next_transfer_allowed(earlier, now), rung_moves)  # fmt: skip
