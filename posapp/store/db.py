"""Opening the counter's SQLite file: encrypted, durable pragmas, read and write transactions, clear errors.

The file is SQLCipher-encrypted with the data folder's key (``posapp.store.cipher``,
``posapp.store.keys``); a plaintext file from an older posapp is converted when first opened.
Writers take ``BEGIN IMMEDIATE`` so two writers (the GUI's DB worker, the POS intake,
a second process) queue on SQLite's lock instead of failing half-way with SQLITE_BUSY.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from filelock import Timeout
from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from posapp.domain.errors import Refusal
from posapp.files import private_file, sqlite_files, tighten
from posapp.store import cipher
from posapp.store.cipher import ERRORS as SQLITE_ERRORS
from posapp.store.keys import DatabaseKey, create_key, load_key
from posapp.store.lookup import Lookup
from posapp.store.models import AuditEntry

BUSY_TIMEOUT_MS = 10_000
# Each page read from an encrypted file is decrypted and its HMAC checked (some 10 us, where a
# plaintext page is a copy from the OS cache), so a page cache hit is what keeps encryption
# cheap. Every connection keeps 8 MiB of pages (SQLite's default: 2 MiB), the lookups' own
# 32 MiB; memory is taken only as pages are read. At 1,000,000 members this keeps identify
# and record_sale within 1.3x of plaintext and the counter's peak RSS at 141 MB (64 MiB for
# lookups alone: record_sale 1.54x, 174 MB; docs/benchmarks.md).
CONNECTION_CACHE_KIB = 8_192
LOOKUP_CACHE_KIB = 32_768
log = logging.getLogger(__name__)
_IMMEDIATE = "posapp_immediate"


class StorageError(RuntimeError):
    """The database cannot do what was asked; ``rule`` says why in a stable code."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def explain(exc: BaseException) -> StorageError:
    """Turn a raw SQLite failure into a message a store manager can act on."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "disk is full" in text or "database or disk is full" in text:
        return StorageError("disk_full", "The disk is full: nothing was saved. Free some space.")
    if "readonly" in text or "read-only" in text:
        return StorageError("read_only", "The database file is read-only: nothing was saved.")
    if "locked" in text or "busy" in text:
        return StorageError("busy", "The database is busy in another program: try again.")
    if "malformed" in text or "not a database" in text:
        return StorageError("corrupt", "The database file is damaged: run 'posapp doctor'.")
    if "unable to open" in text:
        return StorageError("cannot_open", "The database file cannot be opened.")
    return StorageError("storage", f"The database refused the change: {text[:200]}")


class UnreadableDatabase(StorageError):
    """The file is encrypted with a key this machine does not have: never opened, never replaced."""

    def __init__(self, path: Path, reason: str) -> None:
        why = (
            "this machine has no key for it"
            if reason == "no_key"
            else "the key kept on this machine does not open it"
        )
        super().__init__(
            "unreadable",
            f"The local data in {path} cannot be read with this machine's key ({why}). "
            "Nothing was changed. To start clean and fetch members and staff from HQ again, "
            "run 'posapp reset --start-clean': it moves the unreadable file aside (it is kept, "
            "not deleted); then register this counter with HQ again. Sales not yet sent to HQ "
            "stay in the unreadable file.",
        )
        self.path = path
        self.reason = reason


def backups_of(db_path: Path) -> Path:
    """The folder of a database's backups: pre-migration copies and ``posapp backup``."""
    return Path(db_path).parent / "backups"


def _data_dir(path: Path) -> Path:
    """The data folder whose key opens ``path``: its own, or for a backup in ``backups/``
    the one above."""
    folder = path.parent
    return folder.parent if folder.name == "backups" else folder


def key_for(path: Path, *, create: bool = False) -> DatabaseKey | None:
    """The key that opens ``path`` (None: a plaintext or missing file that stays so).

    With ``create``, a data folder without a key gets one; an encrypted file without a
    key, or with one that does not fit, raises ``UnreadableDatabase``.
    """
    path = Path(path)
    state = cipher.file_state(path)
    if state == cipher.DAMAGED:
        raise StorageError("corrupt", "The database file is damaged: run 'posapp doctor'.")
    if state != cipher.ENCRYPTED:
        return create_key(path.parent) if create else None
    key = load_key(_data_dir(path))
    try:
        cipher.check_key(path, key)
    except cipher.Unreadable as exc:
        raise UnreadableDatabase(path, exc.reason) from exc
    return key


def connect_raw(
    path: Path, *, key: DatabaseKey | None = None, read_only: bool = False, **kwargs: Any
) -> sqlite3.Connection:
    """A sqlite3-style connection to a counter database, with its key applied (``key``, else
    its data folder's).

    For scripts, tests and bulk loads that bypass SQLAlchemy; plain ``sqlite3.connect``
    cannot read an encrypted file.
    """
    try:
        key = key or key_for(path)
        return cipher.connect(path, key, read_only=read_only, **kwargs)  # type: ignore[return-value]
    except SQLITE_ERRORS as exc:
        raise explain(exc) from exc


def _on_connect(
    dbapi_conn: sqlite3.Connection, _record: Any, *, autocheckpoint: bool = True
) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    if not autocheckpoint:
        cur.execute("PRAGMA wal_autocheckpoint=0")  # the Checkpointer thread does it
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute(f"PRAGMA cache_size=-{CONNECTION_CACHE_KIB}")
    cur.execute("PRAGMA foreign_keys=ON")
    if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        # A read-only file keeps its mode; writes to it will report read_only.
        with contextlib.suppress(*SQLITE_ERRORS):
            cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def make_engine(
    path: Path,
    key: DatabaseKey | None = None,
    *,
    read_only: bool = False,
    autocheckpoint: bool = True,
) -> Engine:
    """An engine on SQLCipher: ``creator`` keys each new connection before SQLAlchemy uses it."""
    mode = "ro" if read_only else "rwc"
    # URL.create, not a URL string: SQLAlchemy un-quotes a parsed string's database part,
    # so a folder named like "Shop #1" would open "Shop " instead of our file.
    url = URL.create(
        "sqlite+pysqlite", database=f"file:{quote(str(path))}", query={"mode": mode, "uri": "true"}
    )
    # hide_parameters: a failed statement's message (which may reach a log) names no phone.
    engine = create_engine(
        url,
        module=cipher.sqlcipher,  # its errors are the ones SQLAlchemy wraps and we explain
        creator=lambda: cipher.connect(path, key, read_only=read_only),
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=8,
        pool_pre_ping=False,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, record: Any) -> None:
        _on_connect(dbapi_conn, record, autocheckpoint=autocheckpoint)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Checkpointer(threading.Thread):
    """Copies the WAL back into the database off the sale path.

    With SQLite's automatic checkpoint, every thousandth commit pays for copying pages and
    an fsync of the main file: that one sale takes milliseconds. Here a background thread
    runs a PASSIVE checkpoint (never blocks readers or writers) once a second instead.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], interval: float = 1.0) -> None:
        super().__init__(name="posapp-checkpointer", daemon=True)
        self._connect = connect
        self._interval = interval
        self._stopping = threading.Event()

    def run(self) -> None:
        conn = self._connect()
        try:
            while not self._stopping.wait(self._interval):
                self.checkpoint(conn)
            self.checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def checkpoint(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except SQLITE_ERRORS as exc:
            log.warning("WAL checkpoint failed: %s", explain(exc).rule)

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join()


class Database:
    """One SQLite file. ``read()`` and ``write()`` each give a session for one counter action."""

    def __init__(self, path: Path, *, read_only: bool = False, encrypt: bool = True) -> None:
        """Open ``path``; ``encrypt=False`` only for building old-release fixtures in plaintext."""
        self.path = Path(path)
        self.read_only = read_only
        self._local = threading.local()
        self._raw_conns: list[sqlite3.Connection] = []
        self._checkpointer: Checkpointer | None = None
        self.key = self._key(encrypt)
        if not read_only:
            # 0600 before SQLite creates it: its WAL and -shm files then get the same mode.
            with contextlib.suppress(OSError):  # a read-only folder: SQLite says so itself
                private_file(self.path)
            tighten(*sqlite_files(self.path))
            self._checkpointer = Checkpointer(self.raw)
        self.engine = make_engine(
            self.path, self.key, read_only=read_only, autocheckpoint=self._checkpointer is None
        )
        self.writer_engine = self.engine.execution_options(**{_IMMEDIATE: True})
        if self._checkpointer is not None:
            self._checkpointer.start()

    def _key(self, encrypt: bool) -> DatabaseKey | None:
        """The key, after any conversion, which one process at a time does."""
        if self.read_only:
            return key_for(self.path)
        try:
            if not cipher.pending(self.path):
                return self._prepare(encrypt)
            with cipher.exclusive(self.path):  # the checks again, inside: another may be done
                return self._prepare(encrypt)
        except SQLITE_ERRORS as exc:
            raise explain(exc) from exc
        except Timeout as exc:
            raise StorageError(
                "busy", "Another posapp is still encrypting this database: try again later."
            ) from exc

    def _prepare(self, encrypt: bool) -> DatabaseKey | None:
        """Finish an interrupted conversion, convert a plaintext file, and find the key."""
        cipher.recover(self.path)
        state = cipher.file_state(self.path)
        if state in (cipher.ENCRYPTED, cipher.DAMAGED):
            key = key_for(self.path)
        elif not encrypt:
            return None
        else:
            key = create_key(self.path.parent)
        if state == cipher.PLAINTEXT:
            cipher.encrypt_in_place(self.path, key, backups=backups_of(self.path))
        if key is not None:  # and what an interrupted conversion or older posapp left
            cipher.encrypt_backups(backups_of(self.path), key)
        return key

    @property
    def encrypted(self) -> bool:
        return self.key is not None

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = Session(self.engine, autoflush=False, expire_on_commit=False)
        try:
            yield session
        except (DBAPIError, *SQLITE_ERRORS) as exc:
            raise explain(exc) from exc
        finally:
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work commits as one durable transaction, or not at all."""
        session = Session(self.writer_engine, autoflush=True, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except (DBAPIError, *SQLITE_ERRORS) as exc:
            session.rollback()
            raise explain(exc) from exc
        except Refusal as refused:
            session.rollback()
            self._audit_refusal(session, refused)
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _audit_refusal(self, session: Session, refused: Refusal) -> None:
        """A refusal leaves its trace though the work that asked was rolled back."""
        action, staff_id, subject_id = refused.audit
        session.add(
            AuditEntry(at=datetime.now(UTC).replace(tzinfo=None), staff_id=staff_id,
                       action=action[:32], subject_id=subject_id, detail="")
        )  # fmt: skip
        try:
            session.commit()
        except (DBAPIError, *SQLITE_ERRORS) as exc:
            session.rollback()
            raise explain(exc) from exc

    @contextmanager
    def lookup(self) -> Iterator[Lookup]:
        """A read transaction for the counter's hot lookups, on this thread's own connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.raw()
            conn.execute(f"PRAGMA cache_size=-{LOOKUP_CACHE_KIB}")
            self._local.conn = conn
            self._raw_conns.append(conn)
        try:
            conn.execute("BEGIN")
        except SQLITE_ERRORS as exc:
            raise explain(exc) from exc
        try:
            yield Lookup(conn)
        except SQLITE_ERRORS as exc:
            raise explain(exc) from exc
        finally:
            conn.execute("ROLLBACK")

    def raw(self) -> sqlite3.Connection:
        """A DB-API connection (sqlite3's interface) on the same file, keyed, for lookups,
        bulk loads, backups and benchmarks."""
        conn = cipher.connect(self.path, self.key, read_only=self.read_only, isolation_level=None)
        _on_connect(conn, None, autocheckpoint=self._checkpointer is None)
        return conn

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        for conn in self._raw_conns:
            conn.close()
        self._raw_conns.clear()
        self._local = threading.local()
        self.engine.dispose()
