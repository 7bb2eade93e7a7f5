"""Appending facts for HQ in the same transaction as the rows they describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from posapp.domain.ids import new_id
from posapp.protocol.events import SCHEMA_VERSION, EventPayload
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
        schema_version=SCHEMA_VERSION,
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
