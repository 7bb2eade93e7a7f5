"""The per-store feed of changes, and the snapshot a device starts from.

Cursors: ``c:<epoch>:<seq>:<tag>`` follows the feed after ``seq``;
``s:<epoch>:<as_of>:<tag>:<after>`` pages through a snapshot of the store's members taken
at ``as_of``; the tag fingerprints the change at that seq. A cursor from another
database epoch (HQ restored from a backup, or a different HQ) or from the future is refused
with ``CursorGone`` and the device starts a fresh snapshot.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from posapp.hq.db import bulk_insert, current_seq, take_seqs
from posapp.hq.models import (
    Change,
    Consent,
    HqState,
    Member,
    MemberAlias,
    MemberStore,
    RuleSet,
    RungChange,
    Staff,
    Store,
)
from posapp.hq.wecom.links import REMOVED
from posapp.hq.wecom.models import WeComGuide, WeComLink
from posapp.protocol.changes import (
    HISTORY_SENT,
    ChangeData,
    ChangeEnvelope,
    MemberChange,
    MemberMerged,
    MemberView,
    MergedChange,
    RulesChange,
    RungMove,
    StaffChange,
    StaffView,
    StoreAssigned,
    StoreChange,
    change_of,
)

CHUNK = 500


class CursorGone(Exception):
    """The cursor cannot be continued; the device must take a fresh snapshot (HTTP 410,
    which the counter's client raises as ``SnapshotRequired``)."""


@dataclass(frozen=True, slots=True)
class Pending:
    store_id: str | None
    kind: str
    key: str
    data: ChangeData | dict[str, Any]  # one of posapp.protocol.changes, or its fields


T = TypeVar("T")


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterable[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def emit(session: Session, pending: list[Pending], *, now: datetime) -> None:
    """Append changes with seqs from the sequencer, inside the caller's write transaction."""
    if not pending:
        return
    seqs = take_seqs(session, len(pending))
    bulk_insert(
        session,
        Change.__table__,
        [
            {
                "seq": seq,
                "store_id": p.store_id,
                "kind": p.kind,
                "key": p.key,
                "data": _stored(p.data),
                "created_at": now,
            }
            for seq, p in zip(seqs, pending, strict=True)
        ],
    )


def _stored(data: ChangeData | dict[str, Any]) -> str:
    if isinstance(data, ChangeData):
        return data.to_json()
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


_MEMBER_COLUMNS = (
    Member.id,
    Member.member_code,
    Member.phone_e164,
    Member.name,
    Member.birthday,
    Member.rung,
    Member.guide_id,
    Member.home_store_id,
    Member.enrolled_at,
    Member.visit_count,
    Member.lifetime_spend_fen,
    Member.last_visit_at,
    Member.referrals,
)


class Contact(NamedTuple):
    """A member's standing in WeCom: whose contact since when, or whom they removed when."""

    guide_id: str | None
    since: datetime | None = None
    removed_at: datetime | None = None


def _view(
    m: Any,
    consents: dict[str, bool],
    codes: list[str],
    contact: Contact | None = None,
    history: list[RungMove] | None = None,
) -> MemberView:
    # Validated although HQ built it from its own rows: pydantic's checks run in compiled
    # code, faster than model_construct, which runs in Python.
    return MemberView(
        member_id=m.id,
        member_code=m.member_code,
        other_codes=sorted(set(codes) - {m.member_code}) if codes else [],
        phone_e164=m.phone_e164,
        name=m.name,
        birthday=m.birthday,
        rung=m.rung,
        guide_id=m.guide_id,
        home_store_id=m.home_store_id,
        enrolled_at=m.enrolled_at,
        visit_count=m.visit_count,
        lifetime_spend_fen=m.lifetime_spend_fen,
        last_visit_at=m.last_visit_at,
        referrals=m.referrals,
        consents=consents,
        wecom_guide_id=contact.guide_id if contact else None,
        wecom_since=contact.since if contact else None,
        wecom_removed_at=contact.removed_at if contact else None,
        # None, not []: a member without a recorded move has nothing to replace at the
        # counter (its history only ever comes from here), and a first download of a million
        # such members then costs the counter no deletes.
        rung_history=history or None,
    )


def _histories(session: Session, *where: Any, joined: bool = False) -> dict[str, list[RungMove]]:
    """Each member's latest ``HISTORY_SENT`` rung changes, oldest first: one query a page."""
    latest = func.row_number().over(
        partition_by=RungChange.member_id, order_by=RungChange.id.desc()
    )
    inner = select(
        RungChange.member_id,
        RungChange.id,
        RungChange.at,
        RungChange.from_rung,
        RungChange.to_rung,
        RungChange.reason,
        latest.label("n"),
    )
    if joined:
        inner = inner.join(MemberStore, MemberStore.member_id == RungChange.member_id)
    ranked = inner.where(*where).subquery()
    found: dict[str, list[RungMove]] = defaultdict(list)
    for r in session.execute(
        select(ranked).where(ranked.c.n <= HISTORY_SENT).order_by(ranked.c.member_id, ranked.c.id)
    ):
        found[r.member_id].append(
            RungMove(at=r.at, from_rung=r.from_rung, to_rung=r.to_rung, reason=r.reason)
        )
    return found


def _contacts(session: Session, *where: Any, joined: bool = False) -> dict[str, Contact]:
    """Each member's open WeCom link (the newest, when a transfer briefly leaves two); for a
    member with none, the latest removal of their guide (the guide's win-back)."""
    query = select(WeComLink.member_id, WeComLink.staff_id, WeComLink.since, WeComLink.ended_at)
    if joined:
        query = query.join(MemberStore, MemberStore.member_id == WeComLink.member_id)
    standing = or_(WeComLink.ended_at.is_(None), WeComLink.end_reason == REMOVED)
    found: dict[str, Contact] = {}
    for link in session.execute(query.where(standing, *where).order_by(WeComLink.since)):
        was = found.get(link.member_id)
        if link.ended_at is None:
            found[link.member_id] = Contact(link.staff_id, link.since)
        elif was is None or (was.since is None and was.removed_at < link.ended_at):
            found[link.member_id] = Contact(link.staff_id, removed_at=link.ended_at)
    return found


def member_views(session: Session, member_ids: Iterable[str]) -> dict[str, MemberView]:
    """What a store keeps of each member: enough to recognise them offline, phone included."""
    ids = list(dict.fromkeys(member_ids))
    views: dict[str, MemberView] = {}
    for part in chunks(ids):
        consents: dict[str, dict[str, bool]] = defaultdict(dict)
        codes: dict[str, list[str]] = defaultdict(list)
        for c in session.execute(
            select(Consent.member_id, Consent.purpose, Consent.granted)
            .where(Consent.member_id.in_(part))
            .order_by(Consent.id)
        ):
            consents[c.member_id][c.purpose] = c.granted
        for a in session.execute(
            select(MemberAlias.member_id, MemberAlias.member_code).where(
                MemberAlias.member_id.in_(part)
            )
        ):
            codes[a.member_id].append(a.member_code)
        contacts = _contacts(session, WeComLink.member_id.in_(part))
        histories = _histories(session, RungChange.member_id.in_(part))
        for m in session.execute(select(*_MEMBER_COLUMNS).where(Member.id.in_(part))):
            views[m.id] = _view(
                m, consents[m.id], codes[m.id], contacts.get(m.id), histories.get(m.id)
            )
    return views


def snapshot_views(session: Session, store_id: str, after: str, limit: int) -> list[MemberView]:
    """The next ``limit`` members a store holds after ``after``, in id order: three range queries."""
    members = session.execute(
        select(*_MEMBER_COLUMNS)
        .select_from(MemberStore)
        .join(Member, Member.id == MemberStore.member_id)
        .where(
            MemberStore.store_id == store_id,
            MemberStore.member_id > after,
            Member.id > after,  # said twice so the planner starts both index scans at ``after``
            Member.erased_at.is_(None),
        )
        .order_by(MemberStore.member_id)
        .limit(limit)
    ).all()
    if not members:
        return []
    last = members[-1].id
    consents: dict[str, dict[str, bool]] = defaultdict(dict)
    codes: dict[str, list[str]] = defaultdict(list)
    in_range = (
        MemberStore.store_id == store_id,
        MemberStore.member_id > after,
        MemberStore.member_id <= last,
    )
    for c in session.execute(
        select(Consent.member_id, Consent.purpose, Consent.granted)
        .join(MemberStore, MemberStore.member_id == Consent.member_id)
        .where(*in_range)
        .order_by(Consent.id)
    ):
        consents[c.member_id][c.purpose] = c.granted
    for a in session.execute(
        select(MemberAlias.member_id, MemberAlias.member_code)
        .join(MemberStore, MemberStore.member_id == MemberAlias.member_id)
        .where(*in_range)
    ):
        codes[a.member_id].append(a.member_code)
    contacts = _contacts(session, *in_range, joined=True)
    histories = _histories(session, *in_range, joined=True)
    return [
        _view(m, consents[m.id], codes[m.id], contacts.get(m.id), histories.get(m.id))
        for m in members
    ]


def member_changes(session: Session, member_ids: Iterable[str]) -> list[Pending]:
    """One ``member`` change for every store that holds each member."""
    ids = list(dict.fromkeys(member_ids))
    if not ids:
        return []
    views = member_views(session, ids)
    holders: dict[str, list[str]] = defaultdict(list)
    for part in chunks(ids):
        for row in session.execute(
            select(MemberStore.member_id, MemberStore.store_id).where(
                MemberStore.member_id.in_(part)
            )
        ):
            holders[row.member_id].append(row.store_id)
    return [
        Pending(store, "member", member_id, views[member_id])
        for member_id in ids
        if member_id in views
        for store in sorted(holders[member_id])
    ]


def epoch(session: Session) -> str:
    return session.execute(select(HqState.epoch).where(HqState.id == 1)).scalar_one()


def _tag(session: Session, seq: int) -> str:
    """A fingerprint of the change at ``seq``: a database restored from an older backup
    re-issues seqs for different changes, and the fingerprint then no longer matches."""
    if seq == 0:
        return "0"
    created = session.scalar(select(Change.created_at).where(Change.seq == seq))
    if created is None:
        return "-"
    return hashlib.sha256(f"{seq}:{created.isoformat()}".encode()).hexdigest()[:10]


def _parse(session: Session, cursor: str, current_epoch: str) -> tuple[str, int, str]:
    parts = cursor.split(":")
    try:
        if parts[0] == "c" and len(parts) == 4 and parts[1] == current_epoch:
            seq = int(parts[2])
            if _tag(session, seq) == parts[3]:
                return "c", seq, ""
        if parts[0] == "s" and len(parts) == 5 and parts[1] == current_epoch:
            seq = int(parts[2])
            if _tag(session, seq) == parts[3]:
                return "s", seq, parts[4]
    except ValueError:
        pass
    raise CursorGone(cursor)


def _cursor(
    session: Session, mode: str, current_epoch: str, seq: int, after: str | None = None
) -> str:
    tail = f":{after}" if after is not None else ""
    return f"{mode}:{current_epoch}:{seq}:{_tag(session, seq)}{tail}"


def read_changes(
    session: Session, *, store_id: str, cursor: str | None, limit: int
) -> tuple[list[ChangeEnvelope], str, bool]:
    """One page of the store's feed: ``(changes, next_cursor, has_more)``."""
    current_epoch = epoch(session)
    top = current_seq(session)
    if not cursor:
        return _snapshot_page(session, store_id, current_epoch, top, "", limit, first=True)
    mode, seq, after = _parse(session, cursor, current_epoch)
    if seq > top:
        raise CursorGone(cursor)  # from the future: this database is older than the cursor
    if mode == "s":
        return _snapshot_page(session, store_id, current_epoch, seq, after, limit, first=False)
    rows = session.execute(
        select(Change.seq, Change.kind, Change.key, Change.data)
        .where(Change.seq > seq, or_(Change.store_id == store_id, Change.store_id.is_(None)))
        .order_by(Change.seq)
        .limit(limit)
    ).all()
    changes = [change_of(seq=r.seq, kind=r.kind, key=r.key, data=json.loads(r.data)) for r in rows]
    last = changes[-1].seq if changes else seq
    return changes, _cursor(session, "c", current_epoch, last), len(changes) == limit


def _snapshot_page(
    session: Session,
    store_id: str,
    current_epoch: str,
    as_of: int,
    after: str,
    limit: int,
    *,
    first: bool,
) -> tuple[list[ChangeEnvelope], str, bool]:
    changes: list[ChangeEnvelope] = []
    if first:
        store = session.get(Store, store_id)
        zone_name = store.timezone if store is not None else None
        changes.append(StoreChange(seq=as_of, key=store_id,
                                   data=StoreAssigned(snapshot=True, timezone=zone_name)))  # fmt: skip
        for rule in session.scalars(select(RuleSet)):
            changes.append(RulesChange(seq=as_of, key=rule.kind, data=json.loads(rule.body)))
        for s in session.scalars(select(Staff).where(Staff.store_id == store_id)):
            changes.append(StaffChange(seq=as_of, key=s.id, data=staff_view(session, s)))
        # This store's own member ids that HQ merged into another store's member.
        for alias in session.execute(
            select(MemberAlias.local_id, MemberAlias.member_id).where(
                MemberAlias.store_id == store_id, MemberAlias.local_id != MemberAlias.member_id
            )
        ):
            merged = MemberMerged(from_id=alias.local_id, into=alias.member_id)
            changes.append(MergedChange(seq=as_of, key=alias.local_id, data=merged))
    views = snapshot_views(session, store_id, after, limit)
    ids = [v.member_id for v in views]
    changes += [MemberChange(seq=as_of, key=v.member_id, data=v) for v in views]
    if len(ids) == limit:
        return changes, _cursor(session, "s", current_epoch, as_of, ids[-1]), True
    return changes, _cursor(session, "c", current_epoch, as_of), True


def staff_view(session: Session, s: Staff) -> StaffView:
    guide = session.get(WeComGuide, s.id)
    return StaffView(
        staff_id=s.id,
        staff_no=s.staff_no,
        store_id=s.store_id,
        name=s.name,
        role=s.role,
        pin_hash=s.pin_hash,
        active=s.active,
        wecom_connected=guide is not None and guide.departed_at is None,
    )


def staff_change(session: Session, s: Staff) -> Pending:
    """The staff member as their store's counters keep them (after any change to them)."""
    return Pending(s.store_id, "staff", s.id, staff_view(session, s))
