"""HQ's changes written into the counter's own tables: members, consents, merges, erasure.

The sync engine hands each pulled page here inside one transaction with its cursor. Runs of
member changes (a snapshot is nothing else) are written in bulk with one upsert; a member
whose phone or code collides with another local member takes the careful path first, and
both write the same row (``member_row``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Container, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session

from posapp.domain.consent import Purpose
from posapp.domain.local_day import is_zone
from posapp.protocol.changes import (
    ChangeEnvelope,
    ErasedChange,
    MemberChange,
    MergedChange,
    RejectedChange,
    RulesChange,
    SaleMemberChange,
    StaffChange,
    StoreChange,
)
from posapp.protocol.events import ErasureApplied
from posapp.store.local_days import keep_days_in
from posapp.store.lookup import Ledger
from posapp.store.models import (
    AuditEntry,
    ConsentRecord,
    FollowUp,
    Invite,
    Member,
    MemberOtherCode,
    OutboxEvent,
    Purchase,
    RuleSet,
    RungChange,
    Staff,
    Store,
    SyncState,
)
from posapp.store.outbox import append_event
from posapp.timefmt import to_text, to_text_or_none, utcnow


def take_page(
    session: Session,
    changes: Sequence[ChangeEnvelope],
    *,
    cursor: str,
    snapshot_begins: bool,
    snapshot_goes_on: bool,
    halfway: Callable[[], None] | None = None,
) -> None:
    """One pulled page and the cursor after it, in the caller's one transaction.

    ``snapshot_begins``: the page is a fresh snapshot's first (its start is remembered
    across restarts); ``snapshot_goes_on``: more snapshot pages follow this one.
    ``halfway`` is called with half the page applied and nothing committed."""
    session.execute(text("PRAGMA secure_delete=ON"))  # erased data leaves no trace
    state = session.get(SyncState, 1)
    assert state is not None
    if snapshot_begins:
        state.snapshot_started_at = utcnow()
        if session.scalar(select(Member.id).limit(1)) is None:
            _set_member_indexes_aside(session)
    apply_page(session, changes, halfway=halfway)
    if not snapshot_goes_on:  # no snapshot, or its last page
        restore_member_indexes(session)
        if state.snapshot_started_at:
            forget_members_hq_dropped(session, since=state.snapshot_started_at)
            state.snapshot_started_at = None
    state.cursor, state.last_pull_at = cursor, utcnow()


def sync_cursor(session: Session) -> str | None:
    """Where this counter's reading of HQ's feed stands; ``None``: no snapshot yet."""
    return session.scalar(select(SyncState.cursor).where(SyncState.id == 1))


# A new counter's first snapshot fills an empty member table: these indexes are set aside
# and built once at its end (a sorted build, not a million random inserts into each). The
# unique ones stay, since they find collisions. Any that are missing (a crash in between) are
# built again by the next page that ends a snapshot or follows one.
_DEFERRED_INDEXES = (
    "ix_member_last4_recent",
    "ix_member_name",
    "ix_member_guide_id",
    "ix_member_enrolled_by",
    "ix_member_enrolled",
    "ix_member_rung",
)


def _set_member_indexes_aside(session: Session) -> None:
    for name in _DEFERRED_INDEXES:
        session.execute(text(f"DROP INDEX IF EXISTS {name}"))


def restore_member_indexes(session: Session) -> None:
    conn = session.connection()
    for index in Member.__table__.indexes:
        if index.name in _DEFERRED_INDEXES:
            index.create(conn, checkfirst=True)


def _pending_member_ids(session: Session) -> set[str]:
    """Members with events HQ has not acknowledged: HQ's older view must not overwrite them."""
    ids = set()
    for (payload,) in session.execute(
        select(OutboxEvent.payload).where(OutboxEvent.acked_at.is_(None))
    ):
        member = json.loads(payload).get("member_id")
        if member:
            ids.add(member)
    return ids


def apply_page(
    session: Session,
    changes: Sequence[ChangeEnvelope],
    *,
    halfway: Callable[[], None] | None = None,
) -> None:
    """Apply one page of HQ's changes, in order, inside the caller's transaction."""
    pending = _pending_member_ids(session)  # once per page, not once per member
    run: list[MemberChange] = []
    for number, change in enumerate(changes):
        if isinstance(change, MemberChange):
            if change.key not in pending:
                run.append(change)
        else:
            _members_in_bulk(session, run)
            run = []
            handler = _HANDLERS.get(type(change))
            if handler is not None:
                handler(session, change)
        if halfway is not None and number == len(changes) // 2:
            halfway()
    _members_in_bulk(session, run)


_UPSERT_MEMBER = (
    "INSERT INTO member (id, member_code, phone_e164, phone_last4, name, birthday, rung, guide_id,"
    " enrolled_store_id, enrolled_at, visit_count, lifetime_spend_fen, last_visit_at, referrals,"
    " guardian_consent, erased_at, updated_at, wecom_guide_id, wecom_since, wecom_removed_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,NULL,?,?,?,?)"
    " ON CONFLICT(id) DO UPDATE SET member_code=excluded.member_code, phone_e164=excluded.phone_e164,"
    " phone_last4=excluded.phone_last4, name=excluded.name, birthday=excluded.birthday,"
    " rung=excluded.rung, guide_id=excluded.guide_id, enrolled_store_id=excluded.enrolled_store_id,"
    " visit_count=excluded.visit_count, lifetime_spend_fen=excluded.lifetime_spend_fen,"
    " last_visit_at=excluded.last_visit_at, referrals=excluded.referrals, erased_at=NULL,"
    " updated_at=excluded.updated_at, wecom_guide_id=excluded.wecom_guide_id,"
    " wecom_since=excluded.wecom_since, wecom_removed_at=excluded.wecom_removed_at"
)


def member_row(change: MemberChange, *, staff: Container[str], now: str) -> tuple[Any, ...]:
    """HQ's view of a member as the counter's ``member`` row (``_UPSERT_MEMBER``'s values).

    A guide this counter does not know (yet) is left out rather than pointing nowhere;
    ``enrolled_at`` is kept from the first time the member arrived."""
    m = change.data
    phone = m.phone_e164
    return (
        change.key, m.member_code, phone, phone[-4:] if phone else None, m.name,
        m.birthday.isoformat() if m.birthday else None, m.rung,
        m.guide_id if m.guide_id in staff else None, m.home_store_id,
        to_text(m.enrolled_at) if m.enrolled_at else now, m.visit_count, m.lifetime_spend_fen,
        to_text_or_none(m.last_visit_at), m.referrals, now,
        m.wecom_guide_id if m.wecom_since else None, to_text_or_none(m.wecom_since),
        None if m.wecom_since else to_text_or_none(m.wecom_removed_at),
    )  # fmt: skip


def _members_in_bulk(session: Session, run: list[MemberChange]) -> None:
    if not run:
        return
    session.flush()
    conn = session.connection().connection.driver_connection
    ids = [c.key for c in run]
    marks = ",".join("?" * len(run))
    phones = [c.data.phone_e164 or "" for c in run]
    codes = [c.data.member_code for c in run]
    clashing: set[str] = set()
    for phone, code in conn.execute(
        f"SELECT phone_e164, member_code FROM member WHERE id NOT IN ({marks})"
        f" AND (phone_e164 IN ({marks}) OR member_code IN ({marks}))",
        (*ids, *phones, *codes),
    ):
        clashing.update(v for v in (phone, code) if v)
    staff = {row[0] for row in conn.execute("SELECT id FROM staff")}
    now = to_text(utcnow())
    rows = []
    bulk = []
    for change in run:
        if change.data.phone_e164 in clashing or change.data.member_code in clashing:
            _member(session, change, staff=staff, now=now)
            continue
        bulk.append(change)
        rows.append(member_row(change, staff=staff, now=now))
    session.flush()
    conn.executemany(_UPSERT_MEMBER, rows)
    _other_codes(conn, [(c.key, c.data.other_codes) for c in run])
    _hq_consents(conn, [(c.key, c.data.consents) for c in bulk])
    _rung_histories(conn, bulk)
    session.expire_all()  # the ORM may hold member rows this just rewrote


def _member(session: Session, change: MemberChange, *, staff: Container[str], now: str) -> None:
    """The careful path: another local member holds this one's phone (the same customer,
    enrolled here too: merged into HQ's member) or code (renamed out of the way)."""
    key, phone = change.key, change.data.phone_e164
    with session.no_autoflush:
        clash = (
            session.scalar(select(Member).where(Member.phone_e164 == phone, Member.id != key))
            if phone
            else None
        )
        if clash is not None:
            _merge_ids(session, clash.id, key)
        code_owner = session.scalar(
            select(Member.id).where(Member.member_code == change.data.member_code, Member.id != key)
        )
        if code_owner is not None:
            session.execute(
                update(Member)
                .where(Member.id == code_owner)
                .values(member_code="X" + code_owner[-12:])
            )
    session.flush()
    conn = session.connection().connection.driver_connection
    conn.execute(_UPSERT_MEMBER, member_row(change, staff=staff, now=now))
    session.expire_all()
    _other_codes(conn, [(key, change.data.other_codes)])
    _hq_consents(conn, [(key, change.data.consents)])
    _rung_histories(conn, [change])


def _other_codes(conn: Any, members: list[tuple[str, list[str]]]) -> None:
    """Cards of enrolments HQ merged into these members: they scan to the member still."""
    ids = [member_id for member_id, _ in members]
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        conn.execute(
            f"DELETE FROM member_other_code WHERE member_id IN ({','.join('?' * len(part))})",
            part,
        )
    conn.executemany(
        "INSERT OR REPLACE INTO member_other_code (code, member_id) VALUES (?, ?)",
        [(code, member_id) for member_id, codes in members for code in codes],
    )


def _rung_histories(conn: Any, run: Sequence[MemberChange]) -> None:
    """HQ's record of each member's rung changes replaces ours (HQ owns the rung); a member
    change without one (an older HQ) leaves ours as it was."""
    said = list({c.key: c for c in run if c.data.rung_history is not None}.values())  # the last
    ids = [c.key for c in said]
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        conn.execute(
            f"DELETE FROM rung_change WHERE member_id IN ({','.join('?' * len(part))})", part
        )
    conn.executemany(
        "INSERT INTO rung_change (member_id, at, from_rung, to_rung, reason) VALUES (?,?,?,?,?)",
        [(c.key, to_text(m.at), m.from_rung, m.to_rung, m.reason[:16])
         for c in said for m in c.data.rung_history or ()],
    )  # fmt: skip


_PURPOSES = frozenset(p.value for p in Purpose)
# A consent decision that came from HQ: the evidence (the notice the customer saw, where and
# when) is kept at HQ, which recorded it; this row only mirrors the decision.
_HQ_NOTICE = ("hq", 0, "", "")
_ADD_CONSENT = (
    "INSERT INTO consent_record (member_id, purpose, granted, notice_id, notice_version,"
    " notice_language, notice_hash, staff_id, recorded_at) VALUES (?,?,?,?,?,?,?,NULL,?)"
)


def _hq_consents(conn: Any, members: list[tuple[str, dict[str, bool]]]) -> None:
    """HQ's consent decisions for these members, where they differ from the latest here.

    A member who joined by QR or at another store has no record here, and one who withdrew
    elsewhere an outdated one: without this the counter treats the first as a walk-in (and
    its next sale demotes them) and keeps messaging the second. Appended, never rewritten.
    """
    wanted: dict[str, dict[str, bool]] = {}
    for member_id, consents in members:
        decided = {p: g for p, g in consents.items() if p in _PURPOSES}
        if decided:
            wanted[member_id] = decided
    if not wanted:
        return
    ids = list(wanted)
    latest: dict[str, dict[str, bool]] = defaultdict(dict)
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for member_id, purpose, granted in conn.execute(
            "SELECT member_id, purpose, granted FROM consent_record"
            f" WHERE member_id IN ({','.join('?' * len(part))}) ORDER BY id",
            part,
        ):
            latest[member_id][purpose] = bool(granted)
    now = to_text(utcnow())
    conn.executemany(
        _ADD_CONSENT,
        [(member_id, purpose, int(granted), *_HQ_NOTICE, now)
         for member_id, decided in wanted.items()
         for purpose, granted in decided.items()
         if latest[member_id].get(purpose) != granted],
    )  # fmt: skip


def _store(session: Session, change: StoreChange) -> None:
    store = session.get(Store, change.key)
    if store is None:
        store = Store(id=change.key, name=change.key, region="CN", currency="CNY")
        session.add(store)
    session.execute(update(SyncState).where(SyncState.id == 1).values(store_id=change.key))
    zone_name = change.data.timezone
    if zone_name and is_zone(zone_name):  # a zone newer than this counter's tzdata: keep ours
        store.timezone = zone_name
        session.flush()
        keep_days_in(session, zone_name)


def _rules(session: Session, change: RulesChange) -> None:
    row = session.get(RuleSet, change.key)
    body = json.dumps(change.data, ensure_ascii=False, sort_keys=True)
    if row is None:
        session.add(RuleSet(kind=change.key, body=body, updated_at=utcnow()))
    else:
        row.body, row.updated_at = body, utcnow()


def _staff(session: Session, change: StaffChange) -> None:
    data = change.data
    store_id = data.store_id
    with session.no_autoflush:
        if store_id and session.get(Store, store_id) is None:
            session.add(Store(id=store_id, name=store_id, region="CN", currency="CNY"))
        staff = session.get(Staff, change.key) or Staff(id=change.key)
        staff.store_id = store_id
        staff.name, staff.role = data.name, data.role
        staff.pin_hash, staff.active = data.pin_hash, data.active
        staff.staff_no, staff.wecom_connected = data.staff_no, data.wecom_connected
        session.add(staff)
    session.flush()


def _merged(session: Session, change: MergedChange) -> None:
    _merge_ids(session, change.data.from_id, change.data.into)


def _merge_ids(session: Session, source: str, target: str) -> None:
    """Our member id ``source`` is HQ's ``target``: move everything that points at it."""
    if source == target or session.get(Member, source) is None:
        return
    if session.get(Member, target) is None:
        old = session.get(Member, source)
        assert old is not None
        copy = {c.key: getattr(old, c.key) for c in Member.__table__.columns}
        copy.update(id=target, phone_e164=None, member_code=f"M{target[-12:]}")
        session.add(Member(**copy))
        session.flush()
    for model in (Purchase, Invite, FollowUp, RungChange):
        session.execute(update(model).where(model.member_id == source).values(member_id=target))
    old_code = session.scalar(select(Member.member_code).where(Member.id == source))
    session.execute(
        update(MemberOtherCode).where(MemberOtherCode.member_id == source).values(member_id=target)
    )
    if old_code and old_code[0].isdigit():  # a real card code, not a placeholder
        session.merge(MemberOtherCode(code=old_code, member_id=target))
    # Consent records are append-only evidence: copied to the member they now belong to, in
    # their original order, then the originals are removed with the merged id.
    session.execute(
        text(
            "INSERT INTO consent_record (member_id, purpose, granted, notice_id, notice_version,"
            " notice_language, notice_hash, staff_id, recorded_at) SELECT :target, purpose, granted,"
            " notice_id, notice_version, notice_language, notice_hash, staff_id, recorded_at"
            " FROM consent_record WHERE member_id = :source ORDER BY id"
        ),
        {"target": target, "source": source},
    )
    session.execute(delete(ConsentRecord).where(ConsentRecord.member_id == source))
    session.execute(delete(Member).where(Member.id == source))
    session.flush()


def _erased(session: Session, change: ErasedChange) -> None:
    erase_member(session, change.key, local_ids=change.data.local_ids)


def erase_member(
    session: Session, member_id: str, *, local_ids: Sequence[str] = (), acknowledge: bool = True
) -> None:
    """Delete the member's personal data here, in this one transaction, and tell HQ."""
    ids = {member_id, *local_ids}
    now = utcnow()
    codes = _codes_of(session, ids)
    for erased in ids:
        if session.get(Member, erased) is None:
            continue
        session.execute(delete(ConsentRecord).where(ConsentRecord.member_id == erased))
        session.execute(delete(MemberOtherCode).where(MemberOtherCode.member_id == erased))
        session.execute(delete(RungChange).where(RungChange.member_id == erased))
        session.execute(
            update(Member)
            .where(Member.id == erased)
            .values(phone_e164=None, phone_last4=None, name=None, birthday=None,
                    member_code="X" + erased[-12:], erased_at=now, updated_at=now,
                    wecom_guide_id=None, wecom_since=None, wecom_removed_at=None)
        )  # fmt: skip
    # Pending events, and acknowledged ones kept for a resend, both: none may keep the data.
    if codes:  # sales here that named them by code, as another store's member offline
        session.execute(
            update(Purchase).where(Purchase.member_code_ref.in_(codes)).values(member_code_ref=None)
        )
    mentions = [OutboxEvent.payload.contains(named) for named in (*ids, *codes)]
    for event in session.scalars(select(OutboxEvent).where(or_(*mentions))):
        payload = json.loads(event.payload)
        if payload.get("member_code_ref") in codes:
            payload["member_code_ref"] = None
            event.payload = json.dumps(payload, ensure_ascii=False)
        if payload.get("member_id") in ids:
            for field in ("phone_e164", "name", "birthday", "member_code"):
                if field in payload:
                    payload[field] = "" if field in ("phone_e164", "member_code") else None
            event.payload = json.dumps(payload, ensure_ascii=False)
    session.add(
        AuditEntry(at=now, staff_id=None, action="erasure_applied", subject_id=member_id, detail="")
    )
    session.flush()
    if acknowledge:
        append_event(Ledger.within(session), ErasureApplied(member_id=member_id), now=now)


def _codes_of(session: Session, ids: set[str]) -> set[str]:
    """Every member code the members ``ids`` were known by here (their own, and merged ones)."""
    own = session.scalars(select(Member.member_code).where(Member.id.in_(ids)))
    other = session.scalars(select(MemberOtherCode.code).where(MemberOtherCode.member_id.in_(ids)))
    return {*own, *other}


def forget_members_hq_dropped(session: Session, *, since: datetime) -> int:
    """After a fresh snapshot: members HQ no longer sends (erased while our cursor was lost)
    lose their personal data here too. Members with unsent events are HQ's news still."""
    session.flush()
    pending = _pending_member_ids(session)
    stale = [
        member_id
        for member_id in session.scalars(
            select(Member.id).where(Member.updated_at < since, Member.erased_at.is_(None))
        )
        if member_id not in pending
    ]
    for member_id in stale:
        erase_member(session, member_id, acknowledge=False)
    return len(stale)


def _sale_member(session: Session, change: SaleMemberChange) -> None:
    """HQ credited our walk-in sale to the customer who joined through its QR, or a sale
    recorded with another store's member code to that member (who came down just before)."""
    member_id = change.data.member_id
    if session.get(Member, member_id) is None:
        return
    session.execute(
        update(Purchase)
        .where(Purchase.id == change.key, Purchase.member_id.is_(None))
        .values(member_id=member_id)
    )


def _rejected(session: Session, change: RejectedChange) -> None:
    session.add(
        AuditEntry(at=utcnow(), staff_id=None, action="hq_rejected", subject_id=change.key,
                   detail=change.data.reason[:500])
    )  # fmt: skip


_HANDLERS: dict[type[ChangeEnvelope], Callable[[Session, Any], None]] = {
    StoreChange: _store,
    RulesChange: _rules,
    StaffChange: _staff,
    MergedChange: _merged,
    ErasedChange: _erased,
    RejectedChange: _rejected,
    SaleMemberChange: _sale_member,
}
