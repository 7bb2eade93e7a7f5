"""Migrations: empty to head, 0001 with live data to head, the backup taken first, refusals."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from roster import CASHIER, GUIDE
from sqlalchemy import text
from store_checks import NEW_TABLES, OLD_TABLES, check_ledger, columns_of, connect, dump

from posapp.domain.consent import Notice
from posapp.protocol.events import (
    SCHEMA_VERSION,
    ConsentChoice,
    MemberEnrolled,
    NoticeRef,
    SaleRecorded,
)
from posapp.services.sales import record_sale
from posapp.store.db import BUSY_TIMEOUT_MS, Database, StorageError
from posapp.store.migrate import (
    SchemaTooNew,
    backup_dir,
    current_revision,
    head_revision,
    integrity_check,
    known_revisions,
    migrate,
    open_database,
    upgrade_to,
)
from posapp.store.models import Base

DEVICE = "0190f7a0-0000-7000-8000-00000000d001"
MEMBER_A = "0190f7a0-0000-7000-8000-0000000000a1"
MEMBER_B = "0190f7a0-0000-7000-8000-0000000000b2"
T0 = datetime(2026, 10, 1, 9, 0)


# The columns each table had at 0001: later revisions may add columns (0003 added
# sync_state.clock_skew_s); what was there must come through unchanged.
OLD_COLUMNS: dict[str, list[str]] = {}


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {r[0] for r in rows}


def build_at_0001(path: Path, notice: Notice) -> dict[str, list[tuple[object, ...]]]:
    """A counter database as the first release left it, with members, sales, unsynced events.

    Returns every row of every table, to compare after the upgrade.
    """
    db = Database(path)
    try:
        upgrade_to(db, "0001")
        assert current_revision(db) == "0001"
    finally:
        db.close()
    ref = NoticeRef(
        notice_id=notice.notice_id,
        version=notice.version,
        language=notice.language,
        text_hash=notice.text_hash,
    )
    sales = [  # purchase id, receipt, fen, member
        ("0190f7a0-0000-7000-8000-0000000000f1", "OLD-1", 12_800, MEMBER_A),
        ("0190f7a0-0000-7000-8000-0000000000f2", "OLD-2", 4_550, MEMBER_A),
        ("0190f7a0-0000-7000-8000-0000000000f3", "OLD-3", 990, None),
    ]
    events = [
        MemberEnrolled(
            member_id=MEMBER_A,
            member_code="M0000000018",
            phone_e164="+8613812345678",
            name="李娜",
            staff_id=CASHIER,
            guide_id=GUIDE,
            consents=[ConsentChoice(purpose="membership", granted=True, notice=ref)],
            enrolled_at=T0,
        ),
        *(
            SaleRecorded(
                purchase_id=pid,
                receipt_no=receipt,
                amount_fen=fen,
                currency="CNY",
                staff_id=CASHIER,
                member_id=member,
                occurred_at=T0,
            )
            for pid, receipt, fen, member in sales
        ),
    ]
    conn = connect(path)
    try:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO store VALUES ('old-store', '老店', 'CN', 'CNY')")
        conn.execute("INSERT INTO device VALUES (?, 'old-store', '收银台 1', ?)", (DEVICE, _ts(T0)))
        conn.executemany(
            "INSERT INTO staff VALUES (?, 'old-store', ?, ?, NULL, 1)",
            [(CASHIER, "刘洋", "cashier"), (GUIDE, "王芳", "guide")],
        )
        conn.executemany(
            "INSERT INTO member VALUES (?,?,?,?,?,NULL,?,?,'old-store',?,?,?,?,?,0,0,NULL,?)",
            [
                (MEMBER_A, "M0000000018", "+8613812345678", "5678", "李娜", "regular", GUIDE,
                 CASHIER, _ts(T0), 2, 17_350, _ts(T0), _ts(T0)),
                (MEMBER_B, "M0000000026", "+8613912345670", "5670", None, "member", None,
                 CASHIER, _ts(T0), 0, 0, None, _ts(T0)),
            ],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO purchase VALUES (?, ?, ?, ?, 'CNY', ?, ?, 'typed', ?)",
            [(pid, DEVICE, receipt, fen, CASHIER, member, _ts(T0)) for pid, receipt, fen, member in sales],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO consent_record (member_id, purpose, granted, notice_id, notice_version,"
            " notice_language, notice_hash, staff_id, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (member, purpose, 1, notice.notice_id, notice.version, notice.language,
                 notice.text_hash, CASHIER, _ts(T0))
                for member, purpose in [(MEMBER_A, "membership"), (MEMBER_A, "marketing"),
                                        (MEMBER_B, "membership")]
            ],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO outbox_event VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (seq, f"0190f7a0-0000-7000-8000-00000000e00{seq}", DEVICE, event.type, _ts(T0),
                 SCHEMA_VERSION, event.model_dump_json(), _ts(T0) if seq == 1 else None)
                for seq, event in enumerate(events, start=1)
            ],
        )  # fmt: skip
        conn.execute(
            "INSERT INTO sync_state VALUES (1, ?, 'old-store', ?, 'https://hq.example.cn',"
            " 'cursor-17', ?, NULL, NULL)",
            (DEVICE, len(events) + 1, _ts(T0)),
        )
        conn.execute("COMMIT")
        pending = conn.execute("SELECT count(*) FROM outbox_event WHERE acked_at IS NULL")
        assert pending.fetchone()[0] == 3
        OLD_COLUMNS.update({table: columns_of(conn, table) for table in OLD_TABLES})
        return {table: dump(conn, table, OLD_COLUMNS[table]) for table in OLD_TABLES}
    finally:
        conn.close()


def test_empty_file_migrates_to_head_with_durable_settings(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "posapp.db"
    db = open_database(path)
    try:
        assert current_revision(db) == head_revision() == known_revisions()[-1]
        assert integrity_check(db) == ["ok"]
        raw = db.raw()
        assert _tables(raw) == set(Base.metadata.tables) | {"alembic_version"}
        triggers = raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
        assert sorted(triggers) == [
            ("consent_record_append_only",), ("trg_purchase_day_delete",),
            ("trg_purchase_day_insert",), ("trg_purchase_day_update",),
        ]  # fmt: skip
        device_id, next_seq = raw.execute("SELECT device_id, next_seq FROM sync_state").fetchone()
        assert len(device_id) == 36 and next_seq == 1
        raw.close()
        for session_of in (db.write, db.read):
            with session_of() as s:
                assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert s.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
                assert s.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS
        assert migrate(db) is None  # already at head: no second run, no backup
    finally:
        db.close()
    assert not backup_dir(path).exists()  # nothing to back up in a new file


def test_migrated_schema_is_what_the_models_describe(db: Database) -> None:
    with db.engine.connect() as conn:
        diffs = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
        # Alembic cannot compare an index on an expression (last_visit_at DESC): check it here.
        columns = conn.exec_driver_sql(
            "SELECT name, desc FROM pragma_index_xinfo('ix_member_last4_recent') WHERE key"
        ).fetchall()
    assert columns == [("phone_last4", 0), ("last_visit_at", 1)]
    other = [d for d in diffs if getattr(d[1], "name", None) != "ix_member_last4_recent"]
    assert other == []


def test_0001_database_with_data_migrates_to_head_intact(tmp_path: Path, notice: Notice) -> None:
    path = tmp_path / "data" / "posapp.db"
    path.parent.mkdir()
    before = build_at_0001(path, notice)

    db = open_database(path)
    try:
        assert current_revision(db) == head_revision()
        assert integrity_check(db) == ["ok"]
        conn = connect(path)
        assert {table: dump(conn, table, OLD_COLUMNS[table]) for table in OLD_TABLES} == before
        assert set(NEW_TABLES) <= _tables(conn)
        check_ledger(conn)
        conn.close()
        # The device keeps its identity and counter: the next fact follows the old ones.
        with db.write() as s:
            sale = record_sale(s, receipt_no="NEW-1", amount="20", member_id=MEMBER_A)
        assert sale.rung is not None
        conn = connect(path)
        ledger = check_ledger(conn)
        assert ledger.events == 5 and ledger.purchases == 4
        assert conn.execute("SELECT device_id FROM outbox_event WHERE seq = 5").fetchone() == (
            DEVICE,
        )
        conn.close()
    finally:
        db.close()


def test_backup_taken_before_migrating_restores(tmp_path: Path, notice: Notice) -> None:
    path = tmp_path / "data" / "posapp.db"
    path.parent.mkdir()
    before = build_at_0001(path, notice)
    db = open_database(path)
    with db.write() as s:  # a change after the upgrade, which a restore must undo
        record_sale(s, receipt_no="AFTER-UPGRADE", amount="1")
    db.close()

    backups = sorted(backup_dir(path).glob("*.db"))
    assert len(backups) == 1 and backups[0].name.startswith("pre-migrate-0001-")
    copy = connect(backups[0])  # keyed: the backup is encrypted like the database
    assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    assert {table: dump(copy, table, OLD_COLUMNS[table]) for table in OLD_TABLES} == before
    assert not set(NEW_TABLES) & _tables(copy)
    copy.close()

    # Restore as support would: the counter is closed, the copy replaces the file.
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(backups[0], path)
    db = open_database(path)
    try:
        assert current_revision(db) == head_revision()
        conn = connect(path)
        assert {table: dump(conn, table, OLD_COLUMNS[table]) for table in OLD_TABLES} == before
        undone = conn.execute("SELECT count(*) FROM purchase WHERE receipt_no = 'AFTER-UPGRADE'")
        assert undone.fetchone() == (0,)
        assert set(NEW_TABLES) <= _tables(conn)
        check_ledger(conn)
        conn.close()
    finally:
        db.close()
    assert len(list(backup_dir(path).glob("pre-migrate-0001-*.db"))) == 2


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_newer_schema_is_refused_and_left_byte_for_byte(db_path: Path, journal_mode: str) -> None:
    conn = connect(db_path)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert conn.execute(f"PRAGMA journal_mode={journal_mode}").fetchone() == (journal_mode,)
    conn.close()
    folder = sorted(p.name for p in db_path.parent.iterdir())
    before = db_path.read_bytes()

    with pytest.raises(SchemaTooNew) as refused:
        open_database(db_path)

    assert refused.value.rule == "schema_too_new" and "9999" in refused.value.message
    assert db_path.read_bytes() == before
    assert not backup_dir(db_path).exists()
    # A read-only look at a WAL file may leave SQLite's own side files, nothing else.
    after = {p.name for p in db_path.parent.iterdir()}
    assert after - set(folder) <= {"posapp.db-wal", "posapp.db-shm"}


def test_damaged_file_is_refused_with_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "posapp.db"
    path.write_bytes(b"this is not a database, it is a shopping list " * 200)
    before = path.read_bytes()
    with pytest.raises(StorageError) as refused:
        open_database(path)
    assert refused.value.rule == "corrupt"
    assert path.read_bytes() == before
