"""A full disk and a read-only file: clear refusals, and nothing already saved is harmed."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from roster import CASHIER
from sqlalchemy import event, func, select
from store_checks import check_ledger, connect, dump

from posapp.domain.consent import Notice, Purpose
from posapp.services.members import enrol_member, identify
from posapp.services.sales import record_sale
from posapp.store.db import Database, StorageError
from posapp.store.models import Purchase

TABLES = ("member", "purchase", "consent_record", "outbox_event", "sync_state")


def _snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = connect(path)
    try:
        return {table: dump(conn, table) for table in TABLES}
    finally:
        conn.close()


def _some_sales(db: Database, notice: Notice) -> str:
    with db.write() as s:
        member_id = enrol_member(
            s, phone="13812345678", consents={Purpose.MEMBERSHIP}, notice=notice, staff_id=CASHIER
        ).member_id
    for i in range(5):
        with db.write() as s:
            record_sale(
                s, receipt_no=f"EARLY-{i}", amount="88.00", member_id=member_id if i % 2 else None
            )
    return member_id


def _enrol(db: Database, notice: Notice, phone: str) -> None:
    with db.write() as s:
        enrol_member(
            s,
            phone=phone,
            consents={Purpose.MEMBERSHIP, Purpose.MARKETING},
            notice=notice,
            staff_id=CASHIER,
            name="张伟",
        )


def _until_refused(write: Any, attempts: int, path: Path) -> tuple[StorageError, int]:
    """Call ``write(i)`` until one is refused; the refused one must leave no trace."""
    for i in range(attempts):
        before = _snapshot(path)
        try:
            write(i)
        except StorageError as exc:
            assert _snapshot(path) == before
            return exc, i
    raise AssertionError(f"still writing after {attempts} attempts: the file was never full")


def test_full_disk_refuses_the_sale_and_the_enrolment_and_keeps_the_rest(
    db: Database, db_path: Path, notice: Notice
) -> None:
    member_id = _some_sales(db, notice)
    early = _snapshot(db_path)
    raw = db.raw()
    pages = raw.execute("PRAGMA page_count").fetchone()[0]
    raw.close()

    def disk_is_full(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # The file may not grow past today's size, as on a disk with no space left.
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}").fetchone()

    db.engine.dispose()  # the pooled connections were opened without the limit
    event.listen(db.engine, "connect", disk_is_full)

    def sale(i: int) -> None:
        with db.write() as s:
            record_sale(
                s,
                receipt_no=f"FULL-{i:04d}-" + "X" * 50,
                amount=1_000 + i,
                staff_id=CASHIER,
                member_id=member_id,
            )

    refused_sale, sold = _until_refused(sale, 1_000, db_path)
    assert refused_sale.rule == "disk_full"
    assert refused_sale.message == "The disk is full: nothing was saved. Free some space."

    refused_enrolment, enrolled = _until_refused(
        lambda i: _enrol(db, notice, f"1391000{i:04d}"), 1_000, db_path
    )
    assert refused_enrolment.rule == "disk_full"
    with db.write() as s:  # a full disk does not stop reads, nor a write that needs no space
        assert s.scalar(select(func.count()).select_from(Purchase)) == 5 + sold

    after = _snapshot(db_path)
    for table in ("purchase", "consent_record", "outbox_event"):
        assert set(early[table]) <= set(after[table]), table  # earlier facts intact
    assert {m[0] for m in early["member"]} <= {m[0] for m in after["member"]}
    conn = connect(db_path)
    ledger = check_ledger(conn)
    assert f"FULL-{sold:04d}-" + "X" * 50 not in ledger.receipts
    assert ledger.members == 1 + enrolled
    conn.close()

    # Space is freed: the very sale that was refused now goes through.
    event.remove(db.engine, "connect", disk_is_full)
    db.engine.dispose()
    sale(sold)
    conn = connect(db_path)
    assert check_ledger(conn).purchases == 5 + sold + 1
    conn.close()


def test_read_only_database_refuses_writes_and_still_reads(
    db: Database, db_path: Path, notice: Notice
) -> None:
    _some_sales(db, notice)
    db.close()
    before = _snapshot(db_path)

    ro = Database(db_path, read_only=True)
    try:
        _assert_writes_refused(ro, notice)
        with ro.lookup() as lookup:
            found = identify(lookup, "13812345678")
        assert found.card is not None and found.card.summary.visit_count == 2
        with ro.read() as s:
            assert s.scalar(select(func.count()).select_from(Purchase)) == 5
    finally:
        ro.close()
    assert _snapshot(db_path) == before

    if os.geteuid() != 0:  # root writes to a 0444 file anyway: only meaningful for others
        db_path.chmod(0o444)
        try:
            opened = Database(db_path)  # an ordinary read-write open of a file it cannot write
            try:
                _assert_writes_refused(opened, notice)
            finally:
                opened.close()
        finally:
            db_path.chmod(0o644)
        assert _snapshot(db_path) == before


def _assert_writes_refused(db: Database, notice: Notice) -> None:
    with pytest.raises(StorageError) as refused, db.write() as s:
        record_sale(s, receipt_no="RO-1", amount="10")
    assert refused.value.rule == "read_only"
    assert refused.value.message == "The database file is read-only: nothing was saved."
    with pytest.raises(StorageError) as refused, db.write() as s:
        enrol_member(
            s, phone="13912345670", consents={Purpose.MEMBERSHIP}, notice=notice, staff_id=CASHIER
        )
    assert refused.value.rule == "read_only"
