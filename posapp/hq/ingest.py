"""Push appends a device's events to HQ's log exactly once, in seq order; the log says how far
HQ is behind.

Facts never conflict: HQ stores every event under ``UNIQUE(event_id)`` and
``UNIQUE(device_id, seq)`` and answers ``acked_through``. A replay is acknowledged again; a
gap stops the batch and names the expected seq; a replayed event id with a different
payload is flagged and never applied. What HQ makes of the events is the projection's work
(``posapp.hq.projection``), behind the acknowledgement; the backlog functions here say how
much of the log waits for it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from posapp.hq.db import insert_values
from posapp.hq.feed import chunks
from posapp.hq.models import FLAGGED, RECEIVED, Device, Event, EventConflict
from posapp.protocol.sync import EventEnvelope, PushResponse, Rejection


def canonical_json(payload: dict[str, object]) -> str:
    """Sorted keys, no spaces, UTF-8 as it is: the same payload always hashes alike."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):  # beyond orjson (huge integers): stored as sent
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(payload: dict[str, object]) -> str:
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Prepared:
    """An event checked before the write lock is taken: parsing costs no one else's time."""

    envelope: EventEnvelope
    text: str  # canonical JSON of the payload, as stored
    digest: str


def prepare(events: list[EventEnvelope]) -> list[Prepared]:
    """Canonical text and hash of each payload, outside any transaction."""
    prepared = []
    for e in sorted(events, key=lambda e: e.seq):
        text = canonical_json(e.payload)
        prepared.append(Prepared(e, text, hashlib.sha256(text.encode()).hexdigest()))
    return prepared


def push(session: Session, *, device: Device, batch: list[Prepared], now: datetime) -> PushResponse:
    """Append a prepared batch to HQ's event log and acknowledge it; nothing is derived here.

    The acknowledgement means the facts are durable at HQ, exactly once and in seq order.
    What HQ makes of them (members, sales, the feed) is the projector's work, behind the
    acknowledgement: a counter emptying a week's backlog waits only for the log.
    """
    session.refresh(device, with_for_update=True)
    expected = device.last_seq + 1
    flagged: list[Rejection] = []

    replays = [p for p in batch if p.envelope.seq < expected]
    if replays:
        stored = {
            row.seq: row
            for row in session.execute(
                select(Event.seq, Event.event_id, Event.payload_hash).where(
                    Event.device_id == device.id, Event.seq.in_([p.envelope.seq for p in replays])
                )
            )
        }
        for p in replays:
            e, row = p.envelope, stored.get(p.envelope.seq)
            if row is None or row.event_id != e.event_id or row.payload_hash != p.digest:
                flagged.append(Rejection(event_id=e.event_id, seq=e.seq, reason="replay differs"))
                _flag(session, e, p.digest, now)

    gap_at: int | None = None
    fresh: list[Prepared] = []
    for p in batch:
        if p.envelope.seq < expected:
            continue
        if p.envelope.seq > expected:
            gap_at = expected
            break
        fresh.append(p)
        expected += 1
    try:
        with session.begin_nested():  # event ids are UUIDv7: a clash is a faulty device
            insert_values(session, Event.__table__, LOG_COLUMNS,
                          [_logged(p, device, now) for p in fresh])  # fmt: skip
    except IntegrityError:
        flagged += _append_with_clashes(session, device, fresh, now)
    device.last_seq = expected - 1
    device.last_seen_at = now
    return PushResponse(
        acked_through=device.last_seq,
        expected_seq=gap_at,
        flagged=flagged,
        hq_time=now.replace(tzinfo=UTC),  # RFC 3339 date-time: with its zone
    )


LOG_COLUMNS = ["event_id", "device_id", "seq", "store_id", "type", "occurred_at", "received_at",
               "schema_version", "payload", "payload_hash", "status", "reason"]  # fmt: skip


def _logged(p: Prepared, device: Device, now: datetime, *, event_id: str | None = None,
            status: str = RECEIVED, reason: str | None = None) -> tuple[object, ...]:  # fmt: skip
    e = p.envelope
    return (event_id or e.event_id, device.id, e.seq, device.store_id, e.type,
            e.occurred_at.replace(tzinfo=None), now, e.schema_version, p.text, p.digest, status,
            reason)  # fmt: skip


def _append_with_clashes(
    session: Session, device: Device, fresh: list[Prepared], now: datetime
) -> list[Rejection]:
    """The careful path: an event id already in the log (or twice in the batch) is stored
    under a derived id, flagged, and never applied; the rest go in as usual."""
    used: set[str] = set()
    for part in chunks([p.envelope.event_id for p in fresh]):
        used.update(session.scalars(select(Event.event_id).where(Event.event_id.in_(part))))
    flagged, rows = [], []
    for p in fresh:
        e = p.envelope
        if e.event_id in used:
            reason = "event_id already used at another seq"
            flagged.append(Rejection(event_id=e.event_id, seq=e.seq, reason=reason))
            _flag(session, e, p.digest, now)
            derived = f"{e.event_id}#{device.id[:8]}-{e.seq}"[:64]
            rows.append(_logged(p, device, now, event_id=derived, status=FLAGGED, reason=reason))
        else:
            rows.append(_logged(p, device, now))
        used.add(e.event_id)
    insert_values(session, Event.__table__, LOG_COLUMNS, rows)
    return flagged


def _flag(session: Session, e: EventEnvelope, digest: str, now: datetime) -> None:
    seen = session.scalar(
        select(EventConflict.id).where(
            EventConflict.event_id == e.event_id, EventConflict.payload_hash == digest
        )
    )
    if seen is None:
        session.add(
            EventConflict(
                event_id=e.event_id,
                device_id=e.device_id,
                seq=e.seq,
                payload_hash=digest,
                received_at=now,
            )
        )


def unprojected_through(session: Session, device_id: str | None = None) -> int | None:
    """The newest received-but-not-applied event (of one device, or of anyone), if any.

    For a device it is enough to look at its newest event: events are applied in HQ's
    order, which keeps each device's seq order, so if that one is done all of it is.
    """
    if device_id is None:
        return session.scalar(select(func.max(Event.id)).where(Event.status == RECEIVED))
    newest = session.execute(
        select(Event.id, Event.status)
        .where(Event.device_id == device_id, Event.status != FLAGGED)  # flagged: never applied
        .order_by(Event.seq.desc())
        .limit(1)
    ).first()
    return newest.id if newest is not None and newest.status == RECEIVED else None


def oldest_unprojected(session: Session, *, through: int | None = None) -> Event | None:
    query = select(Event).where(Event.status == RECEIVED)
    if through is not None:
        query = query.where(Event.id <= through)
    return session.scalars(query.order_by(Event.id).limit(1)).first()


def backlog(session: Session) -> int:
    """Events acknowledged to their counters but not applied yet."""
    return session.scalar(select(func.count()).where(Event.status == RECEIVED)) or 0


def backlog_status(session: Session, *, now: datetime) -> dict[str, object]:
    """What an operator watches: how much HQ has acknowledged but not applied, and how late."""
    count, devices, oldest = session.execute(
        select(func.count(), func.count(func.distinct(Event.device_id)), func.min(Event.received_at))
        .where(Event.status == RECEIVED)
    ).one()  # fmt: skip
    return {
        "events_waiting": count or 0,
        "devices_waiting": devices or 0,
        "oldest_waiting_s": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
    }
