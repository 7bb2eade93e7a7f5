"""Bring HQ's database to the current schema (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from posapp.hq.db import HqDatabase

MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(db: HqDatabase) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.execution_options(hq_immediate=True).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
