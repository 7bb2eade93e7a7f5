"""Bring a counter database to the current schema, safely.

Before an existing database is migrated it is copied with SQLite's online backup API,
so a failed or unwanted upgrade can always be undone; a database written by a newer
posapp is refused rather than touched. Backups are encrypted with the database's own key
(SQLCipher copies page by page only between files with the same key).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import Timeout
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from posapp.domain.ids import new_id
from posapp.files import PRIVATE_DIR, private_dir, private_file
from posapp.store import cipher
from posapp.store.cipher import ERRORS as SQLITE_ERRORS
from posapp.store.db import Database, StorageError, backups_of, explain, key_for
from posapp.store.keys import DatabaseKey
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


def backup_file(source: Path, target: Path, key: DatabaseKey | None = None) -> Path:
    """Copy a live database page by page (safe while others read or write), encrypted with
    its key (``key``, else its data folder's). The copy is 0600 (it holds every member),
    created so before a byte is written."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)  # an existing one stays
    key = key or key_for(source)
    if target.exists() and cipher.file_state(target) != cipher.NEW:
        target.unlink()  # a copy always starts from an empty file, keyed like its source
    private_file(target)
    try:
        src = cipher.connect(source, key, read_only=True)
        dst = cipher.connect(target, key)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    except SQLITE_ERRORS as exc:
        raise explain(exc) from exc
    return target


def stored_revision(path: Path, key: DatabaseKey | None = None) -> str | None:
    """The schema revision recorded in the file, read without changing a byte of it."""
    conn = cipher.connect(path, key or key_for(path), read_only=True)
    try:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone():
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    except SQLITE_ERRORS as exc:
        raise explain(exc) from exc
    finally:
        conn.close()


backup_dir = backups_of


def _prune_backups(folder: Path, *, keep: Path) -> None:
    """Keep the newest few pre-migration copies (by name: the stamp sorts), always ``keep``."""
    backups = sorted(folder.glob("pre-migrate-*.db"), key=lambda p: p.name.rsplit("-", 1)[-1])
    for old in backups[:-KEEP_BACKUPS]:
        if old != keep:
            old.unlink(missing_ok=True)


class SchemaTooNew(StorageError):
    def __init__(self, revision: str) -> None:
        super().__init__(
            "schema_too_new",
            f"This database was written by a newer posapp (schema {revision}); "
            "install that version or newer. Nothing was changed.",
        )
        self.revision = revision


class MigrationFailed(StorageError):
    """An upgrade that did not complete; the file is back as it was before it started."""

    def __init__(
        self, current: str | None, head: str, *, restored: Path | None, cause: BaseException
    ) -> None:
        if isinstance(cause, (*SQLITE_ERRORS, DBAPIError)):
            cause = explain(cause)
        reason = cause.message if isinstance(cause, StorageError) else type(cause).__name__
        if restored is not None:
            text = (
                f"This update could not convert the database (schema {current} to {head}: "
                f"{reason}). It was put back exactly as it was before the update, from "
                f"{restored.name}; no sale was lost. Reinstall the previous posapp version "
                "or call support."
            )
        else:
            text = f"Setting up the new database failed ({reason}); nothing was saved yet."
        super().__init__("migration_failed", text)
        self.current = current
        self.backup = restored


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
        private_dir(backup_dir(db.path))
        backup = backup_file(
            db.path, backup_dir(db.path) / f"pre-migrate-{current}-{stamp}.db", db.key
        )
        _prune_backups(backup_dir(db.path), keep=backup)
        log.info("backed up schema %s before migrating to %s", current, head)
    try:
        upgrade_to(db, head)
    except Exception as exc:
        log.error("migrating schema %s to %s failed: %s", current, head, type(exc).__name__)
        if backup is None:
            raise MigrationFailed(current, head, restored=None, cause=exc) from exc
        restore_backup(db, backup, expected=current)
        raise MigrationFailed(current, head, restored=backup, cause=exc) from exc
    return backup


def restore_backup(db: Database, backup: Path, *, expected: str) -> None:
    """Put the pre-migration copy back into the live file, through SQLite, page by page.

    SQLite's backup API writes the destination in one transaction of its own (WAL and
    all), so the open engine's next connection sees the old schema, never a mixture.
    """
    db.engine.dispose()  # no pooled connection may hold a page of the failed attempt
    src = cipher.connect(backup, db.key, read_only=True)
    dst = cipher.connect(db.path, db.key)
    try:
        src.backup(dst)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        restored = dst.execute("SELECT version_num FROM alembic_version").fetchone()
        check = dst.execute("PRAGMA integrity_check").fetchone()
    finally:
        dst.close()
        src.close()
    if restored != (expected,) or check != ("ok",):
        raise StorageError(
            "restore_failed",
            f"The update failed and the database could not be put back as it was. Do not use "
            f"this counter: copy {backup} somewhere safe and call support.",
        )
    log.warning("restored schema %s from %s", expected, backup.name)


def upgrade_to(db: Database, revision: str) -> None:
    """Run the migrations up to ``revision`` in one write transaction (no backup)."""
    cfg = _config()
    try:
        with db.writer_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except (*SQLITE_ERRORS, DBAPIError) as exc:
        raise explain(exc) from exc


def ensure_device(db: Database) -> str:
    """Give this counter its own device id the first time its database is opened."""
    with db.write() as session:
        state = session.scalar(select(SyncState).where(SyncState.id == 1))
        if state is None:
            state = SyncState(id=1, device_id=new_id(), next_seq=1)
            session.add(state)
        return state.device_id


def open_database(path: Path, *, migrate_schema: bool = True, encrypt: bool = True) -> Database:
    """Open (creating if need be), encrypt and migrate the counter database at ``path``.

    ``encrypt=False`` leaves a plaintext file plaintext (old-release fixtures, benchmarks'
    comparison copy); a counter never passes it.
    """
    path = Path(path)
    try:
        private_dir(path.parent)  # the data folder: 0700
    except OSError as exc:
        raise StorageError("cannot_open", f"Cannot create the data folder {path.parent}.") from exc
    try:
        if cipher.pending(path):
            with cipher.exclusive(path):
                cipher.recover(path)  # an interrupted conversion: one database, before a check
    except (OSError, Timeout) as exc:
        raise StorageError("cannot_open", f"Cannot finish encrypting {path}: {exc}") from exc
    if migrate_schema and path.exists() and path.stat().st_size > 0:
        # Checked before a read-write open, which would already switch the file to WAL.
        revision = stored_revision(path)
        if revision is not None and revision not in known_revisions():
            raise SchemaTooNew(revision)
    db = Database(path, encrypt=encrypt)
    try:
        if migrate_schema:
            migrate(db)
            ensure_device(db)
    except Exception:
        db.close()
        raise
    return db


def start_clean(path: Path) -> Path:
    """Move a database that cannot be read aside, so the next start begins an empty one.

    Refused while the file opens with this machine's key: a readable database is never
    set aside by this. Returns where the unreadable file now is (it is kept, not deleted).
    """
    path = Path(path)
    cipher.recover(path)
    try:
        key_for(path)
    except StorageError as exc:
        if exc.rule not in ("unreadable", "corrupt"):
            raise
        moved = cipher.move_aside(path)
        log.warning("moved the unreadable %s aside to %s", path.name, moved.name)
        return moved
    raise StorageError(
        "readable",
        f"The local data in {path} opens with this machine's key: nothing was moved. "
        "Start clean is only for a database this machine cannot read.",
    )


def restore_from(db: Database, source: Path) -> str | None:
    """Put the backup ``source`` into the open database, page by page, after taking a copy
    of the current data (``pre-restore-*.db``). The backup must open with this data
    folder's key. Returns its schema revision; the caller reopens to migrate it.
    """
    source = Path(source)
    if cipher.file_state(source) != cipher.file_state(db.path):
        raise StorageError(
            "unreadable",
            f"The backup {source} is not encrypted like this counter's database: nothing was "
            "restored. Put an older plaintext backup into the backups folder and start posapp "
            "once: it is encrypted then.",
        )
    try:
        if db.key is not None:
            cipher.check_key(source, db.key)
    except cipher.Unreadable as exc:
        raise StorageError(
            "unreadable",
            f"The backup {source} cannot be read with this machine's key: nothing was "
            "restored. A backup opens only with the key of the counter that made it.",
        ) from exc
    revision = stored_revision(source, db.key)
    if revision is None or revision not in known_revisions():
        raise StorageError(
            "restore_refused", f"The backup {source} holds no schema this posapp knows."
        )
    stamp = (datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%f")
    backup_file(db.path, backup_dir(db.path) / f"pre-restore-{stamp}.db", db.key)
    restore_backup(db, source, expected=revision)
    return revision


def integrity_check(db: Database) -> list[str]:
    """``PRAGMA integrity_check``: ``['ok']`` when the file is sound."""
    with db.engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
