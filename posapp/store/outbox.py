"""Appending facts for HQ in the same transaction as the rows they describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, text, update
from sqlalchemy.orm import Session

from posapp.domain.ids import new_id
from posapp.protocol.events import EventPayload
from posapp.store.lookup import Ledger
from posapp.store.models import OutboxEvent, SyncState


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


def pending_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.acked_at.is_(None))
        )
        or 0
    )


def store_id(session: Session) -> str | None:
    """The store this counter is registered to, or None before registration."""
    return session.execute(select(SyncState.store_id).where(SyncState.id == 1)).scalar_one()


def pending_summary(session: Session) -> tuple[int, datetime | None]:
    """How many facts HQ has not acknowledged yet, and when the oldest of them happened."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxEvent.occurred_at)).where(
            OutboxEvent.acked_at.is_(None)
        )
    ).one()
    return count, oldest


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
