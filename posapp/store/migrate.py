"""Bring a counter database to the current schema, safely.

Before an existing database is migrated it is copied with SQLite's online backup API,
so a failed or unwanted upgrade can always be undone; a database written by a newer
posapp is refused rather than touched.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from posapp.domain.ids import new_id
from posapp.store.db import Database, StorageError, explain
from posapp.store.models import SyncState

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
KEEP_BACKUPS = 5


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    """Every revision from the first to head, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup_file(source: Path, target: Path) -> Path:
    """Copy a live SQLite database page by page (safe while others read or write)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{quote(str(source))}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target


def stored_revision(path: Path) -> str | None:
    """The schema revision recorded in the file, read without changing a byte of it."""
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    try:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone():
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    except sqlite3.Error as exc:
        raise explain(exc) from exc
    finally:
        conn.close()


def backup_dir(db_path: Path) -> Path:
    return db_path.parent / "backups"


def _prune_backups(folder: Path) -> None:
    backups = sorted(folder.glob("pre-migrate-*.db"))
    for old in backups[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)


class SchemaTooNew(StorageError):
    def __init__(self, revision: str) -> None:
        super().__init__(
            "schema_too_new",
            f"This database was written by a newer posapp (schema {revision}); "
            "install that version or newer. Nothing was changed.",
        )


def migrate(db: Database, *, now: datetime | None = None) -> Path | None:
    """Upgrade to head; returns the backup taken first, if the file already held data."""
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return None
    if current is not None and current not in known_revisions():
        raise SchemaTooNew(current)
    backup: Path | None = None
    if current is not None:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%f")
        backup = backup_file(db.path, backup_dir(db.path) / f"pre-migrate-{current}-{stamp}.db")
        _prune_backups(backup_dir(db.path))
        log.info("backed up schema %s before migrating to %s", current, head)
    upgrade_to(db, head)
    return backup


def upgrade_to(db: Database, revision: str) -> None:
    """Run the migrations up to ``revision`` in one write transaction (no backup)."""
    cfg = _config()
    try:
        with db.writer_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except (sqlite3.Error, DBAPIError) as exc:
        raise explain(exc) from exc


def ensure_device(db: Database) -> str:
    """Give this counter its own device id the first time its database is opened."""
    with db.write() as session:
        state = session.scalar(select(SyncState).where(SyncState.id == 1))
        if state is None:
            state = SyncState(id=1, device_id=new_id(), next_seq=1)
            session.add(state)
        return state.device_id


def open_database(path: Path, *, migrate_schema: bool = True) -> Database:
    """Open (creating if need be) and migrate the counter database at ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError("cannot_open", f"Cannot create the data folder {path.parent}.") from exc
    if migrate_schema and path.exists() and path.stat().st_size > 0:
        # Checked before a read-write open, which would already switch the file to WAL.
        revision = stored_revision(path)
        if revision is not None and revision not in known_revisions():
            raise SchemaTooNew(revision)
    db = Database(path)
    try:
        if migrate_schema:
            migrate(db)
            ensure_device(db)
    except Exception:
        db.close()
        raise
    return db


def integrity_check(db: Database) -> list[str]:
    """``PRAGMA integrity_check``: ``['ok']`` when the file is sound."""
    with db.engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
