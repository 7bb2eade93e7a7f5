"""Online backups: consistent while a writer works, and the right file whatever the folder name."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from roster import CASHIER
from store_checks import check_ledger, connect, count

from posapp.domain.consent import Notice, Purpose
from posapp.services.members import enrol_member
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.migrate import backup_file, open_database


def test_backup_of_a_live_database_is_a_consistent_copy(
    db: Database, db_path: Path, tmp_path: Path, notice: Notice
) -> None:
    with db.write() as s:
        member_id = enrol_member(
            s, phone="13812340000", consents={Purpose.MEMBERSHIP}, notice=notice, staff_id=CASHIER
        ).member_id
    stop = threading.Event()
    failures: list[BaseException] = []

    def write_sales() -> None:
        writer = Database(db_path)  # its own connections, as another program would have
        try:
            i = 0
            while not stop.is_set():
                i += 1
                with writer.write() as s:
                    record_sale(
                        s,
                        receipt_no=f"LIVE-{i}",
                        amount=100 + i,
                        staff_id=CASHIER,
                        member_id=member_id if i % 2 else None,
                    )
        except BaseException as exc:
            failures.append(exc)
        finally:
            writer.close()

    thread = threading.Thread(target=write_sales)
    thread.start()
    copies: list[int] = []
    try:
        deadline = time.monotonic() + 10
        while count(db_path, "purchase") < 20 and time.monotonic() < deadline and not failures:
            time.sleep(0.01)
        for k in range(6):
            committed = count(db_path, "purchase")
            target = backup_file(db_path, tmp_path / "copies" / f"live-{k}.db")
            conn = connect(target, db.key)  # a copy outside the data folder: its key given
            ledger = check_ledger(conn)  # sound, gapless, every sale with its one event
            conn.close()
            assert ledger.purchases >= committed  # includes what is still only in the WAL
            copies.append(ledger.purchases)
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert copies == sorted(copies) and copies[-1] > copies[0]  # the writer wrote throughout


def test_folder_name_with_url_characters_opens_and_backs_up_the_right_file(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "门店 #1 ?50%25 off"
    path = folder / "posapp.db"
    db = open_database(path)
    try:
        with db.write() as s:
            record_sale(s, receipt_no="HASH-1", amount="9.90")
        with db.lookup():  # the raw connections must see the same file as the engine
            pass
        raw = db.raw()
        assert raw.execute("SELECT receipt_no FROM purchase").fetchall() == [("HASH-1",)]
        raw.close()
    finally:
        db.close()
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no stray "门店 " file
    assert count(path, "purchase") == 1
    copy = backup_file(path, folder / "backups" / "manual.db")
    conn = connect(copy)
    assert conn.execute("SELECT receipt_no FROM purchase").fetchall() == [("HASH-1",)]
    conn.close()
