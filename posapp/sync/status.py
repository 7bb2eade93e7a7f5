"""What the counter shows about sync: pending events, their age, last success, last error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from posapp.store.db import Database
from posapp.store.models import SyncState
from posapp.store.outbox import pending_summary
from posapp.timefmt import utcnow

CLOCK_SKEW_WARN_S = 300
"""More than five minutes from HQ's clock is flagged; the counter keeps trading."""


@dataclass(frozen=True)
class SyncStatus:
    registered: bool
    pending: int
    oldest_pending_at: datetime | None
    last_push_at: datetime | None
    last_pull_at: datetime | None
    last_error: str | None
    clock_skew_s: int | None = None

    @property
    def clock_off(self) -> bool:
        """More than five minutes from HQ's clock: flagged, but the counter keeps trading."""
        return self.clock_skew_s is not None and abs(self.clock_skew_s) > CLOCK_SKEW_WARN_S

    @property
    def oldest_pending_age_s(self) -> float | None:
        if self.oldest_pending_at is None:
            return None
        return (utcnow() - self.oldest_pending_at).total_seconds()

    @property
    def online(self) -> bool:
        """The last round reached HQ (no error recorded since)."""
        return self.registered and self.last_error is None and self.last_pull_at is not None


def sync_status(db: Database) -> SyncStatus:
    with db.read() as session:
        state = session.scalars(select(SyncState).where(SyncState.id == 1)).one()
        pending, oldest = pending_summary(session)
    return SyncStatus(
        registered=state.hq_url is not None,
        pending=pending,
        oldest_pending_at=oldest,
        last_push_at=state.last_push_at,
        last_pull_at=state.last_pull_at,
        last_error=state.last_error,
        clock_skew_s=state.clock_skew_s,
    )
