"""Shared by the sync tests: HQ's clock-free "now", and a counter registered with an HQ."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.sync.registration import register


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def registered_counter(data: Path, *, base: str, hq_db: HqDatabase, store: str = "a") -> Database:
    """A new counter database in ``data``, registered with the HQ at ``base`` for ``store``."""
    db = open_database(data / "posapp.db")
    with hq_db.write() as session:
        code = admin.device_code(session, store_id=store, now=now(), minutes=10)
    register(db, data, hq_url=base, code=code, name=data.name)
    return db
