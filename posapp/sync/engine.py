"""One sync round: push the outbox, then pull and apply HQ's changes.

Each pushed batch's acknowledgement and each pulled page (with its cursor) is one local
transaction, so a crash at any point leaves the counter consistent and the next round
simply continues: HQ answers a replayed batch with the same acknowledgement.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session

from posapp.domain.consent import Purpose
from posapp.protocol.events import ErasureApplied
from posapp.protocol.sync import Change, PushResponse
from posapp.store.db import Database
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
    Staff,
    Store,
    SyncState,
)
from posapp.store.outbox import append_event
from posapp.sync.client import CursorGone, HqClient
from posapp.timefmt import from_text as _dt
from posapp.timefmt import to_text_or_none as _ts
from posapp.timefmt import utcnow

log = logging.getLogger(__name__)
BATCH = 500
PAGE = (
    5_000  # changes per pull: a snapshot page; 3 bind lists of this size stay under SQLite's limit
)
GUI_PAGE = 250  # ≈ 30 ms to decode on a slow till: under the 50 ms a cashier would notice
RETENTION = timedelta(days=30)


CRASH_ENV = "POSAPP_CRASH_AT"


def crash_point(name: str) -> None:
    """Fault-injection for the crash tests: die here, at once, if told to by the environment."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


@dataclass
class RoundResult:
    pushed: int = 0
    rejected: int = 0  # HQ's refusals of our events, come down with its changes
    applied: int = 0
    snapshot: bool = False


# The batch is read as the text the outbox holds: each payload is already JSON (written by
# pydantic), so it goes on the wire as it is, not parsed and encoded again per event.
_NEXT_BATCH = text(
    "SELECT event_id, device_id, seq, type, occurred_at, schema_version, payload"
    " FROM outbox_event WHERE seq > :after AND acked_at IS NULL ORDER BY seq LIMIT :n"
)


def encode_batch(rows: Sequence[Any]) -> bytes:
    """The push body for outbox rows, byte for byte what HQ's ``PushRequest`` reads."""
    events = ",".join(
        f'{{"event_id":{json.dumps(r.event_id)},"device_id":{json.dumps(r.device_id)},'
        f'"seq":{int(r.seq)},"type":{json.dumps(r.type)},'
        f'"occurred_at":{json.dumps(_iso(r.occurred_at))},'
        f'"schema_version":{int(r.schema_version)},"payload":{r.payload}}}'
        for r in rows
    )
    return f'{{"events":[{events}]}}'.encode()


def _iso(stored: object) -> str:
    if isinstance(stored, datetime):
        return stored.isoformat()
    return str(stored).replace(" ", "T", 1)  # SQLite's "YYYY-MM-DD HH:MM:SS.ffffff"


class SyncEngine:
    def __init__(self, db: Database, client: HqClient, *, page: int = PAGE) -> None:
        """``page``: changes asked per pull. Beside a window keep it small (``GUI_PAGE``):
        decoding a page holds the GIL in one C call, so a big one freezes the screen."""
        self.db = db
        self.client = client
        self.page = page

    def run_once(self) -> RoundResult:
        result = RoundResult()
        try:
            self.push(result)
            self.pull(result)
        except Exception as exc:
            self._note_error(exc)
            raise
        with self.db.write() as session:
            session.execute(update(SyncState).where(SyncState.id == 1).values(last_error=None))
        return result

    # -- push ------------------------------------------------------------------------------

    def push(self, result: RoundResult) -> None:
        """Send the outbox in seq order, a batch at a time, marking what HQ acknowledges.

        Only the HTTP call is on the critical path: while HQ works on one batch, a helper
        thread marks the previous answer and reads and encodes the next batch (assuming HQ
        takes all of this one; if it does not, that read is thrown away). Marks and reads
        run on that one thread in the order they were asked for. A crash before a mark is
        harmless: the batch goes again and HQ acknowledges the replay.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="posapp-push") as helper:
            marks: list[Future[None]] = []
            try:
                self._push(result, helper, marks)
            finally:
                for mark in marks:
                    mark.result()  # a failed mark is reported, after the others are done
        if marks:
            # Once a round, not once a batch: nothing indexes acked_at, so this reads the whole
            # outbox, which is most of the counter's own time on a 100,000-event backlog.
            with self.db.write() as session:
                session.execute(
                    delete(OutboxEvent).where(OutboxEvent.acked_at < utcnow() - RETENTION)
                )

    def _push(
        self, result: RoundResult, helper: ThreadPoolExecutor, marks: list[Future[None]]
    ) -> None:
        coming = helper.submit(self._read_batch, 0)
        while True:
            rows, body = coming.result()
            if not rows:
                return
            coming = helper.submit(self._read_batch, rows[-1].seq)
            pushed = self.client.push(body)  # timed by the attempt HQ answered
            answer = pushed.answer
            crash_point("after_push_before_ack")  # HQ has committed; we have not marked it
            marks.append(
                helper.submit(self._mark, rows[0].seq, answer, pushed.sent_at, pushed.received_at)
            )
            result.pushed += max(0, min(answer.acked_through, rows[-1].seq) - rows[0].seq + 1)
            if answer.acked_through < rows[0].seq and answer.expected_seq is None:
                return  # no progress: leave it for the next round
            after = answer.acked_through
            if answer.expected_seq is not None:
                after = min(after, answer.expected_seq - 1)
            if after != rows[-1].seq:  # HQ did not take the whole batch: read from where it is
                coming.result()
                coming = helper.submit(self._read_batch, after)  # after the mark, on one thread

    def _read_batch(self, after: int) -> tuple[list[Any], bytes]:
        with self.db.read() as session:
            rows = list(session.execute(_NEXT_BATCH, {"after": after, "n": BATCH}).all())
        return rows, encode_batch(rows) if rows else b""

    def _mark(self, first: int, answer: PushResponse, sent_at: datetime, now: datetime) -> None:
        """Record HQ's answer to the batch that began at seq ``first``."""
        # HQ's clock came back with the answer; the midpoint of the call is our guess of "now".
        skew = int(
            (sent_at + (now - sent_at) / 2 - answer.hq_time.replace(tzinfo=None)).total_seconds()
        )
        with self.db.write() as session:
            session.execute(
                update(OutboxEvent)
                .where(
                    OutboxEvent.seq.between(first, answer.acked_through),
                    OutboxEvent.acked_at.is_(None),
                )
                .values(acked_at=now)
            )
            if answer.expected_seq is not None and answer.expected_seq <= answer.acked_through + 1:
                # HQ lost events it once acknowledged (restored from a backup): send again.
                session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.seq >= answer.expected_seq)
                    .values(acked_at=None)
                )
            session.execute(
                update(SyncState)
                .where(SyncState.id == 1)
                .values(last_push_at=now, clock_skew_s=skew)
            )
        crash_point("after_ack")

    # -- pull ------------------------------------------------------------------------------

    def pull(self, result: RoundResult) -> None:
        """Apply pages in order; the next page is fetched while this one is being applied."""
        with self.db.read() as session:
            cursor = session.scalar(select(SyncState.cursor).where(SyncState.id == 1))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="posapp-pull") as fetcher:
            coming = fetcher.submit(self.client.changes, cursor, limit=self.page)
            while True:
                try:
                    page = coming.result()
                except CursorGone:
                    result.snapshot = True
                    cursor = None
                    coming = fetcher.submit(self.client.changes, None, limit=self.page)
                    continue
                if page.has_more:
                    coming = fetcher.submit(self.client.changes, page.cursor, limit=self.page)
                with self.db.write() as session:
                    session.execute(text("PRAGMA secure_delete=ON"))  # erased data leaves no trace
                    state = session.get(SyncState, 1)
                    assert state is not None
                    if cursor is None:  # a snapshot begins: remember when, across restarts
                        state.snapshot_started_at = utcnow()
                        if session.scalar(select(Member.id).limit(1)) is None:
                            _set_member_indexes_aside(session)
                    apply_page(session, page.changes)
                    if not page.cursor.startswith("s:"):  # no snapshot, or its last page
                        restore_member_indexes(session)
                    if state.snapshot_started_at and not page.cursor.startswith("s:"):
                        forget_members_hq_dropped(session, since=state.snapshot_started_at)
                        state.snapshot_started_at = None
                    state.cursor, state.last_pull_at = page.cursor, utcnow()
                cursor = page.cursor
                result.applied += len(page.changes)
                result.rejected += sum(c.kind == "event.rejected" for c in page.changes)
                if not page.has_more:
                    break

    def _note_error(self, exc: Exception) -> None:
        try:
            with self.db.write() as session:
                session.execute(
                    update(SyncState).where(SyncState.id == 1).values(last_error=str(exc)[:500])
                )
        except Exception:
            log.warning("could not record the sync error")


# -- applying HQ's changes -----------------------------------------------------------------


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


def apply_page(session: Session, changes: list[Change]) -> None:
    """Apply one page of HQ's changes, in order, inside the caller's transaction.

    Runs of member changes (a snapshot is nothing else) are written in bulk; a member whose
    phone or code collides with another local member takes the careful one-by-one path.
    """
    pending = _pending_member_ids(session)  # once per page, not once per member
    run: list[Change] = []
    for number, change in enumerate(changes):
        if change.kind == "member":
            if change.key not in pending:
                run.append(change)
        else:
            _members_in_bulk(session, run)
            run = []
            handler = _HANDLERS.get(change.kind)
            if handler is not None:
                handler(session, change.key, change.data)
        if number == len(changes) // 2:
            _members_in_bulk(session, run)
            run = []
            crash_point("mid_apply")  # half a page applied, nothing committed
    _members_in_bulk(session, run)


_UPSERT_MEMBER = (
    "INSERT INTO member (id, member_code, phone_e164, phone_last4, name, birthday, rung, guide_id,"
    " enrolled_store_id, enrolled_at, visit_count, lifetime_spend_fen, last_visit_at, referrals,"
    " guardian_consent, erased_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,NULL,?)"
    " ON CONFLICT(id) DO UPDATE SET member_code=excluded.member_code, phone_e164=excluded.phone_e164,"
    " phone_last4=excluded.phone_last4, name=excluded.name, birthday=excluded.birthday,"
    " rung=excluded.rung, guide_id=excluded.guide_id, enrolled_store_id=excluded.enrolled_store_id,"
    " visit_count=excluded.visit_count, lifetime_spend_fen=excluded.lifetime_spend_fen,"
    " last_visit_at=excluded.last_visit_at, referrals=excluded.referrals, erased_at=NULL,"
    " updated_at=excluded.updated_at"
)


def _members_in_bulk(session: Session, run: list[Change]) -> None:
    if not run:
        return
    session.flush()
    conn = session.connection().connection.driver_connection
    ids = [c.key for c in run]
    marks = ",".join("?" * len(run))
    phones = [c.data.get("phone_e164") or "" for c in run]
    codes = [c.data["member_code"] for c in run]
    clashing: set[str] = set()
    for phone, code in conn.execute(
        f"SELECT phone_e164, member_code FROM member WHERE id NOT IN ({marks})"
        f" AND (phone_e164 IN ({marks}) OR member_code IN ({marks}))",
        (*ids, *phones, *codes),
    ):
        clashing.update(v for v in (phone, code) if v)
    staff = {row[0] for row in conn.execute("SELECT id FROM staff")}
    now = _ts(utcnow())
    rows = []
    bulk = []
    for change in run:
        data = change.data
        phone = data.get("phone_e164")
        if phone in clashing or data["member_code"] in clashing:
            _member(session, change.key, data, pending=set())
            continue
        bulk.append(change)
        guide = data.get("guide_id")
        rows.append(
            (change.key, data["member_code"], phone, phone[-4:] if phone else None, data.get("name"),
             data.get("birthday"), data.get("rung", "member"), guide if guide in staff else None,
             data.get("home_store_id"), _ts(_dt(data.get("enrolled_at"))) or now,
             int(data.get("visit_count", 0)), int(data.get("lifetime_spend_fen", 0)),
             _ts(_dt(data.get("last_visit_at"))), int(data.get("referrals", 0)), now)
        )  # fmt: skip
    session.flush()
    conn.executemany(_UPSERT_MEMBER, rows)
    _other_codes(conn, [(c.key, c.data.get("other_codes") or []) for c in run])
    _hq_consents(conn, [(c.key, c.data.get("consents")) for c in bulk])
    session.expire_all()  # the ORM may hold member rows this just rewrote


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


_PURPOSES = frozenset(p.value for p in Purpose)
# A consent decision that came from HQ: the evidence (the notice the customer saw, where and
# when) is kept at HQ, which recorded it; this row only mirrors the decision.
_HQ_NOTICE = ("hq", 0, "", "")
_ADD_CONSENT = (
    "INSERT INTO consent_record (member_id, purpose, granted, notice_id, notice_version,"
    " notice_language, notice_hash, staff_id, recorded_at) VALUES (?,?,?,?,?,?,?,NULL,?)"
)


def _hq_consents(conn: Any, members: list[tuple[str, Any]]) -> None:
    """HQ's consent decisions for these members, where they differ from the latest here.

    A member who joined by QR or at another store has no record here, and one who withdrew
    elsewhere an outdated one: without this the counter treats the first as a walk-in (and
    its next sale demotes them) and keeps messaging the second. Appended, never rewritten.
    """
    wanted: dict[str, dict[str, bool]] = {}
    for member_id, consents in members:
        if isinstance(consents, dict):
            decided = {p: g for p, g in consents.items() if p in _PURPOSES and isinstance(g, bool)}
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
    now = _ts(utcnow())
    conn.executemany(
        _ADD_CONSENT,
        [(member_id, purpose, int(granted), *_HQ_NOTICE, now)
         for member_id, decided in wanted.items()
         for purpose, granted in decided.items()
         if latest[member_id].get(purpose) != granted],
    )  # fmt: skip


def _store(session: Session, key: str, data: dict[str, Any]) -> None:
    if session.get(Store, key) is None:
        session.add(Store(id=key, name=key, region="CN", currency="CNY"))
    session.execute(update(SyncState).where(SyncState.id == 1).values(store_id=key))


def _rules(session: Session, key: str, data: dict[str, Any]) -> None:
    row = session.get(RuleSet, key)
    body = json.dumps(data, ensure_ascii=False, sort_keys=True)
    if row is None:
        session.add(RuleSet(kind=key, body=body, updated_at=utcnow()))
    else:
        row.body, row.updated_at = body, utcnow()


def _staff(session: Session, key: str, data: dict[str, Any]) -> None:
    store_id = data.get("store_id")
    with session.no_autoflush:
        if store_id and session.get(Store, store_id) is None:
            session.add(Store(id=store_id, name=store_id, region="CN", currency="CNY"))
        staff = session.get(Staff, key) or Staff(id=key)
        staff.store_id = store_id
        staff.name, staff.role = data["name"], data["role"]
        staff.pin_hash, staff.active = data.get("pin_hash"), bool(data.get("active", True))
        staff.staff_no = data.get("staff_no")
        session.add(staff)
    session.flush()


def _member(session: Session, key: str, data: dict[str, Any], *, pending: set[str]) -> None:
    if key in pending:
        return  # our unsynced events come first; HQ's next state will include them
    phone = data.get("phone_e164")
    with session.no_autoflush:  # the member row is complete only at the end
        clash = (
            session.scalar(select(Member).where(Member.phone_e164 == phone, Member.id != key))
            if phone
            else None
        )
        if clash is not None:
            _merge(session, clash.id, {"from": clash.id, "into": key})
        code_owner = session.scalar(
            select(Member.id).where(Member.member_code == data["member_code"], Member.id != key)
        )
        if code_owner is not None:
            session.execute(
                update(Member)
                .where(Member.id == code_owner)
                .values(member_code="X" + code_owner[-12:])
            )
        guide = data.get("guide_id")
        guide_known = bool(guide) and session.get(Staff, guide) is not None
        member = session.get(Member, key)
        if member is None:
            member = Member(id=key, enrolled_at=_dt(data.get("enrolled_at")) or utcnow())
            session.add(member)
        member.member_code = data["member_code"]
        member.phone_e164 = phone
        member.phone_last4 = phone[-4:] if phone else None
        member.name = data.get("name")
        member.birthday = (
            datetime.fromisoformat(data["birthday"]).date() if data.get("birthday") else None
        )
        member.rung = data.get("rung", "member")
        member.guide_id = guide if guide_known else None
        member.enrolled_store_id = data.get("home_store_id")
        member.visit_count = int(data.get("visit_count", 0))
        member.lifetime_spend_fen = int(data.get("lifetime_spend_fen", 0))
        member.last_visit_at = _dt(data.get("last_visit_at"))
        member.referrals = int(data.get("referrals", 0))
        member.erased_at = None
        member.guardian_consent = bool(member.guardian_consent)
        member.updated_at = utcnow()
    session.flush()
    conn = session.connection().connection.driver_connection
    _other_codes(conn, [(key, data.get("other_codes") or [])])
    _hq_consents(conn, [(key, data.get("consents"))])


def _merge(session: Session, key: str, data: dict[str, Any]) -> None:
    """Our member id ``from`` is HQ's ``into``: move everything that points at it."""
    source, target = data["from"], data["into"]
    if source == target or session.get(Member, source) is None:
        return
    if session.get(Member, target) is None:
        old = session.get(Member, source)
        assert old is not None
        copy = {c.key: getattr(old, c.key) for c in Member.__table__.columns}
        copy.update(id=target, phone_e164=None, member_code=f"M{target[-12:]}")
        session.add(Member(**copy))
        session.flush()
    for model in (Purchase, Invite, FollowUp):
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


def _erased(session: Session, key: str, data: dict[str, Any], *, acknowledge: bool = True) -> None:
    """Delete the member's personal data here, in this one transaction, and tell HQ."""
    ids = {key, *data.get("local_ids", [])}
    now = utcnow()
    for member_id in ids:
        if session.get(Member, member_id) is None:
            continue
        session.execute(delete(ConsentRecord).where(ConsentRecord.member_id == member_id))
        session.execute(delete(MemberOtherCode).where(MemberOtherCode.member_id == member_id))
        session.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(phone_e164=None, phone_last4=None, name=None, birthday=None,
                    member_code="X" + member_id[-12:], erased_at=now, updated_at=now)
        )  # fmt: skip
    # Pending events, and acknowledged ones kept for a resend, both: none may keep the data.
    mentions = [OutboxEvent.payload.contains(member_id) for member_id in ids]
    for event in session.scalars(select(OutboxEvent).where(or_(*mentions))):
        payload = json.loads(event.payload)
        if payload.get("member_id") in ids:
            for field in ("phone_e164", "name", "birthday", "member_code"):
                if field in payload:
                    payload[field] = "" if field in ("phone_e164", "member_code") else None
            event.payload = json.dumps(payload, ensure_ascii=False)
    session.add(
        AuditEntry(at=now, staff_id=None, action="erasure_applied", subject_id=key, detail="")
    )
    session.flush()
    if acknowledge:
        append_event(Ledger.within(session), ErasureApplied(member_id=key), now=now)


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
        _erased(session, member_id, {"local_ids": []}, acknowledge=False)
    return len(stale)


def _sale_member(session: Session, key: str, data: dict[str, Any]) -> None:
    """HQ credited our walk-in sale to the customer who joined through its QR."""
    member_id = str(data.get("member_id") or "")
    if session.get(Member, member_id) is None:
        return
    session.execute(
        update(Purchase)
        .where(Purchase.id == key, Purchase.member_id.is_(None))
        .values(member_id=member_id)
    )


def _rejected(session: Session, key: str, data: dict[str, Any]) -> None:
    reason = str(data.get("reason", ""))[:500]
    session.add(
        AuditEntry(at=utcnow(), staff_id=None, action="hq_rejected", subject_id=key, detail=reason)
    )


_HANDLERS = {
    "store": _store,
    "rules": _rules,
    "staff": _staff,
    "member.merged": _merge,
    "member.erased": _erased,
    "event.rejected": _rejected,
    "sale.member": _sale_member,
}
