"""Counting requests in fixed windows, in the database so every HQ process shares the count."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from posapp.hq.models import RateWindow


def bump_window(session: Session, key: str, *, expires_at: datetime, now: datetime) -> int:
    """Add one to the counter ``key`` (which names its own window) and return the new count."""
    dialect_insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    stmt = dialect_insert(RateWindow).values(key=key[:96], count=1, expires_at=expires_at)
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"count": RateWindow.count + 1})
    count = session.execute(stmt.returning(RateWindow.count)).scalar_one()
    if random.random() < 0.01:
        session.execute(delete(RateWindow).where(RateWindow.expires_at < now))
    return int(count)


def wait_for_minute(session: Session, key: str, *, limit: int, now: datetime) -> int:
    """Count one request against ``key`` in this minute's window: ``0`` while within
    ``limit``, else the seconds until the next window opens."""
    window = now.replace(second=0, microsecond=0)
    count = bump_window(
        session, f"{key}@{window:%Y%m%d%H%M}", expires_at=window + timedelta(minutes=2), now=now
    )
    return 60 - now.second if count > limit else 0
