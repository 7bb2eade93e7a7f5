"""Appending facts for HQ in the same transaction as the rows they describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, text, update
from sqlalchemy.orm import Session

from posapp.domain.ids import new_id
from posapp.protocol.events import EventPayload
from posapp.store.lookup import Ledger
from posapp.store.models import OutboxEvent, SyncState
from posapp.timefmt import from_text


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    event_id: str
    device_id: str


def append_event(
    ledger: Ledger,
    payload: EventPayload,
    *,
    now: datetime,
    claimed: tuple[str, int] | None = None,
) -> Appended:
    """Write one outbox event; ``claimed`` is a seq already taken in this transaction."""
    device_id, seq = claimed or ledger.take_seq()
    event_id = new_id()
    ledger.insert_event(
        seq=seq,
        event_id=event_id,
        device_id=device_id,
        type=payload.type,
        occurred_at=now,
        schema_version=payload.schema_version,
        payload=payload.model_dump_json(),
    )
    return Appended(seq, event_id, device_id)


# Named, as SQLite would read the whole outbox (every event ever sent, with its payload) to
# count the few still waiting: on a year-old counter, seconds for a figure of the status bar.
PENDING_COUNT_SQL = (
    "SELECT count(*) FROM outbox_event INDEXED BY ix_outbox_event_pending WHERE acked_at IS NULL"
)
OLDEST_PENDING_SQL = (
    "SELECT occurred_at FROM outbox_event INDEXED BY ix_outbox_event_pending"
    " WHERE acked_at IS NULL ORDER BY seq LIMIT 1"
)


def pending_count(session: Session) -> int:
    return session.execute(text(PENDING_COUNT_SQL)).scalar_one()


def store_id(session: Session) -> str | None:
    """The store this counter is registered to, or None before registration."""
    return session.execute(select(SyncState.store_id).where(SyncState.id == 1)).scalar_one()


def pending_summary(session: Session) -> tuple[int, datetime | None]:
    """How many facts HQ has not acknowledged yet, and when the first of them waiting happened."""
    oldest = session.execute(text(OLDEST_PENDING_SQL)).scalar()
    return pending_count(session), from_text(oldest) if isinstance(oldest, str) else oldest


# The batch is read as the text the outbox holds: each payload is already JSON (written by
# pydantic), so it goes on the wire as it is, not parsed and encoded again per event.
_NEXT_BATCH = text(
    "SELECT event_id, device_id, seq, type, occurred_at, schema_version, payload"
    " FROM outbox_event WHERE seq > :after AND acked_at IS NULL ORDER BY seq LIMIT :n"
)


def unsent_batch(session: Session, *, after: int, limit: int) -> list[Row[Any]]:
    """The next ``limit`` events HQ has not acknowledged, after seq ``after``, in seq order."""
    return list(session.execute(_NEXT_BATCH, {"after": after, "n": limit}).all())


def mark_acknowledged(
    session: Session,
    *,
    first: int,
    acked_through: int,
    expected_seq: int | None,
    now: datetime,
    clock_skew_s: int,
) -> None:
    """HQ's answer to the batch that began at seq ``first``, and our clock against HQ's."""
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.seq.between(first, acked_through), OutboxEvent.acked_at.is_(None))
        .values(acked_at=now)
    )
    if expected_seq is not None and expected_seq <= acked_through + 1:
        # HQ lost events it once acknowledged (restored from a backup): send again.
        session.execute(
            update(OutboxEvent).where(OutboxEvent.seq >= expected_seq).values(acked_at=None)
        )
    session.execute(
        update(SyncState)
        .where(SyncState.id == 1)
        .values(last_push_at=now, clock_skew_s=clock_skew_s)
    )


def forget_acknowledged(session: Session, *, before: datetime) -> None:
    """Acknowledged events kept for a resend to a restored HQ, once they are old enough.

    Nothing indexes ``acked_at``, so this reads the whole outbox: once a round, not a batch."""
    session.execute(delete(OutboxEvent).where(OutboxEvent.acked_at < before))


def note_sync_error(session: Session, error: str | None) -> None:
    """What stopped the last sync round (shown on the status line), or ``None``: it worked."""
    session.execute(
        update(SyncState)
        .where(SyncState.id == 1)
        .values(last_error=error[:500] if error is not None else None)
    )
