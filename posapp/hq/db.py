"""HQ's database: SQLite by default (one file, no set-up), PostgreSQL at scale.

Every transaction that changes state first takes the sequencer row, so writers are
serialised and change seqs commit in the order they were taken: a reader of the feed
can never see seq N+1 before N is committed (no skipped rows, in one or many processes).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Table,
    create_engine,
    event,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from posapp.files import PRIVATE_DIR, private_file, sqlite_files, tighten
from posapp.hq.models import Counter

CHANGE_COUNTER = "change"
_IMMEDIATE = "hq_immediate"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # Every member of every store: 0600, in a folder made 0700 (an existing one is
            # left as it is); SQLite gives the WAL and -shm files the file's mode.
            db_file = Path(parsed.database)
            db_file.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
            private_file(db_file)
            tighten(*sqlite_files(db_file))
        engine = create_engine(url, pool_size=8, max_overflow=16, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            dbapi_conn.execute("PRAGMA busy_timeout=30000")
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=FULL")
            dbapi_conn.execute("PRAGMA foreign_keys=ON")
            # Freed space is zeroed: an erased phone must not linger in a page's free space.
            dbapi_conn.execute("PRAGMA secure_delete=ON")

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get(_IMMEDIATE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


class HqDatabase:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._writer = self.engine.execution_options(**{_IMMEDIATE: True})
        # SQLite has one writer: this process's writers queue here and the next starts the
        # moment one commits, where SQLite's busy handler would sleep 1, 2, 5 … 100 ms
        # between tries (the tail of every write under load: callbacks, pushes, look-ups).
        self._one_writer: AbstractContextManager[Any] = (
            threading.RLock() if self.is_sqlite else nullcontext()
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = Session(self.engine, expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A short write transaction that does not take the sequencer (rate counters, auth)."""
        with self._one_writer:
            session = Session(self._writer, expire_on_commit=False)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One serialised write transaction: the sequencer row is locked before anything else."""
        with self.transaction() as session:
            session.execute(
                select(Counter.value).where(Counter.name == CHANGE_COUNTER).with_for_update()
            )
            yield session

    def purge_old_versions(self, tables: Sequence[str], *, rewrite: bool = False) -> bool:
        """After an erasure has committed: no old copy of what it overwrote stays in a file.

        SQLite (with ``secure_delete`` on, freed space is zeroed): the write-ahead log, which
        still holds the pages as they were, is checkpointed into the database and truncated;
        then no byte of HQ's files holds the erased data. PostgreSQL: the touched tables are
        vacuumed, so the old row versions leave every index and are gone for any query; a
        vacuum leaves their bytes in the page's free space, though, until reused, so
        ``rewrite`` (``posapp hq purge``, nightly) rewrites the tables (``VACUUM FULL``, an
        exclusive lock while it runs) and the files no longer hold them. False if it could
        not finish (SQLite readers kept the log busy; no right to CHECKPOINT).
        """
        if self.is_sqlite:
            raw = self.engine.raw_connection()
            try:
                for _ in range(100):  # readers of older snapshots hold the log a moment
                    busy, _, _ = raw.driver_connection.execute(
                        "PRAGMA wal_checkpoint(TRUNCATE)"
                    ).fetchone()
                    if not busy:
                        return True
                    time.sleep(0.05)
                return False
            finally:
                raw.close()
        names = ", ".join(f'"{table}"' for table in tables)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM {'FULL ' if rewrite else ''}{names}")
            try:  # the vacuumed pages reach the files now, not at the next checkpoint
                conn.exec_driver_sql("CHECKPOINT")
            except DBAPIError:  # needs pg_checkpoint: then within checkpoint_timeout
                return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def take_seqs(session: Session, count: int) -> range:
    """Claim ``count`` change seqs in this (already serialised) transaction."""
    if count <= 0:
        return range(0)
    top = session.execute(
        update(Counter)
        .where(Counter.name == CHANGE_COUNTER)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    ).scalar_one()
    return range(top - count + 1, top + 1)


def current_seq(session: Session) -> int:
    return session.execute(
        text("SELECT value FROM counter WHERE name = :n"), {"n": CHANGE_COUNTER}
    ).scalar_one()


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows (all with the same keys, Python-side defaults not applied) in the
    session's transaction."""
    if rows:
        columns = list(rows[0])
        take = itemgetter(*columns)
        values = (
            [take(row) for row in rows] if len(columns) > 1 else [(r[columns[0]],) for r in rows]
        )
        insert_values(session, table, columns, values)


def insert_values(
    session: Session, table: Table, columns: list[str], values: Sequence[Sequence[Any]]
) -> None:
    """``bulk_insert`` for rows already in column order.

    On PostgreSQL this is ``COPY``: an ``executemany`` of INSERTs costs the server a whole
    statement per row, which on a 2-core machine was most of the ingest CPU. On SQLite it is
    the driver's own ``executemany``: SQLAlchemy's per-row parameter processing cost more
    than SQLite's insert itself.
    """
    if not values:
        return
    connection = session.connection()
    try:
        _insert_raw(connection, table, columns, values)
    except connection.dialect.loaded_dbapi.IntegrityError as exc:  # as SQLAlchemy's own would be
        raise IntegrityError(f"insert into {table.name}", None, exc) from exc


def _insert_raw(
    connection: Connection, table: Table, columns: list[str], values: Sequence[Sequence[Any]]
) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    driver = connection.connection.driver_connection
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        timed = [i for i, c in enumerate(columns) if _is_time(table.c[c].type)]
        if timed:
            values = [_sqlite_times(v, timed) for v in values]
        driver.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)
        return
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in values:
            copy.write_row(row)


def _is_time(kind: object) -> bool:
    return isinstance(kind, DateTime | Date)


def _sqlite_times(row: Sequence[Any], timed: list[int]) -> list[Any]:
    """Dates and times as SQLAlchemy stores them on SQLite, so stored text compares alike."""
    out = list(row)
    for i in timed:
        value = out[i]
        if isinstance(value, datetime):
            out[i] = value.isoformat(" ", "microseconds")  # SQLAlchemy's "%Y-%m-%d %H:%M:%S.%f"
        elif isinstance(value, date):
            out[i] = value.isoformat()
    return out
