"""Appending facts for HQ in the same transaction as the rows they describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from posapp.domain.ids import new_id
from posapp.protocol.events import SCHEMA_VERSION, EventPayload
from posapp.store.models import OutboxEvent, SyncState


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    event_id: str
    device_id: str


def take_seq(session: Session) -> tuple[str, int]:
    """Claim the next per-device seq from the counter row; gapless because it rolls back too."""
    row = session.execute(
        update(SyncState)
        .where(SyncState.id == 1)
        .values(next_seq=SyncState.next_seq + 1)
        .returning(SyncState.device_id, SyncState.next_seq)
    ).one()
    return row.device_id, row.next_seq - 1


def append_event(
    session: Session,
    payload: EventPayload,
    *,
    now: datetime,
    claimed: tuple[str, int] | None = None,
) -> Appended:
    """Write one outbox event; ``claimed`` is a seq already taken in this transaction."""
    device_id, seq = claimed or take_seq(session)
    event_id = new_id()
    session.execute(
        OutboxEvent.__table__.insert().values(
            seq=seq,
            event_id=event_id,
            device_id=device_id,
            type=payload.type,
            occurred_at=now,
            schema_version=SCHEMA_VERSION,
            payload=payload.model_dump_json(),
        )
    )
    return Appended(seq, event_id, device_id)


def device_id(session: Session) -> str:
    return session.execute(select(SyncState.device_id).where(SyncState.id == 1)).scalar_one()


def pending_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.acked_at.is_(None))
        )
        or 0
    )
