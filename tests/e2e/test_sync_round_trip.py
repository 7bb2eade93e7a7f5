"""Counters and a real HQ process over real HTTP: register, push, pull, merge, erase."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hq_load import MASTER_KEY, hq_process
from sync_world import now

from posapp.domain.consent import Purpose
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.members import enrol_member, identify
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for, register

PHONE = "+8613812345678"


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[tuple[str, HqDatabase]]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    db = HqDatabase(url)
    migrate(db)
    with db.write() as session:
        for store in ("a", "b"):
            admin.add_store(session, store_id=store, name=f"门店 {store}", now=now())
            admin.add_staff(session, store_id=store, name="王芳", role="guide", pin="2468", now=now(),
                            staff_id=f"{store}-guide")  # fmt: skip
    with hq_process(url, tmp_path) as base:
        yield base, db
    db.close()


def _counter(
    tmp_path: Path, name: str, base: str, hq_db: HqDatabase, store: str
) -> tuple[Database, Path]:
    data = tmp_path / name
    db = open_database(data / "posapp.db")
    with hq_db.write() as session:
        code = admin.device_code(session, store_id=store, now=now(), minutes=10)
    register(db, data, hq_url=base, code=code, name=name)
    return db, data


def _sync(db: Database, data: Path) -> None:
    SyncEngine(db, client_for(db, data)).run_once()


def test_enrol_sell_sync_merge_and_erase_across_two_counters(
    tmp_path: Path, hq: tuple[str, HqDatabase]
) -> None:
    base, hq_db = hq
    a, a_dir = _counter(tmp_path, "a", base, hq_db, "a")
    b, b_dir = _counter(tmp_path, "b", base, hq_db, "b")
    for db, data in ((a, a_dir), (b, b_dir)):
        _sync(db, data)  # roster and store arrive
        with db.read() as session:
            assert session.execute(select_staff()).all()
    notice = current_notice()
    with a.write() as s:
        member_a = enrol_member(s, phone=PHONE, name="李雷", consents={Purpose.MEMBERSHIP}, notice=notice,
                                staff_id="a-guide").member_id  # fmt: skip
    with a.write() as s:
        record_sale(s, receipt_no="A-1", amount="100", member_id=member_a, staff_id="a-guide")
    with b.write() as s:  # the same customer at the other store, both offline
        member_b = enrol_member(s, phone=PHONE, consents={Purpose.MEMBERSHIP}, notice=notice,
                                staff_id="b-guide").member_id  # fmt: skip
    card_b = (
        b.raw().execute("SELECT member_code FROM member WHERE id = ?", (member_b,)).fetchone()[0]
    )
    with b.write() as s:
        record_sale(s, receipt_no="B-1", amount="50", member_id=member_b, staff_id="b-guide")
    _sync(a, a_dir)
    _sync(b, b_dir)
    _sync(a, a_dir)
    with hq_db.read() as session:
        from sqlalchemy import text

        assert session.execute(text("SELECT count(*) FROM member")).scalar_one() == 1
        assert session.execute(text("SELECT count(*) FROM event")).scalar_one() == 4
    for db in (a, b):
        with db.lookup() as lookup:
            card = identify(lookup, "138 1234 5678").card
        assert card is not None and card.id == member_a  # one canonical member at both counters
        assert card.summary.visit_count == 2 and card.summary.lifetime_spend_fen == 15_000
        with db.lookup() as lookup:  # the card store B printed still scans, at either store
            by_old_card = identify(lookup, card_b).card
        assert by_old_card is not None and by_old_card.id == member_a
    raw_b = b.raw()
    assert raw_b.execute("SELECT DISTINCT member_id FROM purchase").fetchall() == [(member_a,)]
    assert (
        raw_b.execute("SELECT count(*) FROM outbox_event WHERE acked_at IS NULL").fetchone()[0] == 0
    )

    with hq_db.write() as session:
        admin.erase_member(
            session,
            member_id=member_a,
            requested_by="test",
            now=now(),
            master_key=MASTER_KEY.encode(),
        )
    _sync(a, a_dir)
    _sync(b, b_dir)
    for db in (a, b):
        raw = db.raw()
        assert (
            raw.execute(
                "SELECT count(*) FROM member WHERE phone_e164 IS NOT NULL OR name IS NOT NULL"
            ).fetchone()[0]
            == 0
        )
        assert raw.execute("SELECT count(*) FROM consent_record").fetchone()[0] == 0
        assert (
            raw.execute("SELECT count(*) FROM purchase").fetchone()[0] >= 1
        )  # anonymous facts stay
        assert raw.execute("SELECT count(*) FROM member_other_code").fetchone()[0] == 0
        with db.lookup() as lookup:
            assert identify(lookup, card_b).card is None
        dump = "\n".join(str(r) for r in raw.execute("SELECT payload FROM outbox_event"))
        assert PHONE not in dump and "李雷" not in dump
    _sync(a, a_dir)
    _sync(b, b_dir)
    with hq_db.read() as session:
        status = admin.erasure_status(session, member_a)
    assert all(status["stores"].values())


def select_staff():  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from posapp.store.models import Staff

    return select(Staff.id)


def test_register_and_sync_from_the_command_line(
    tmp_path: Path, hq: tuple[str, HqDatabase]
) -> None:
    base, hq_db = hq
    with hq_db.write() as session:
        code = admin.device_code(session, store_id="a", now=now(), minutes=10)
    data = tmp_path / "till"

    def posapp(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "posapp", "--data-dir", str(data), *args],
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    assert (
        posapp("sale", "--receipt", "R-1", "--amount", "9.90").returncode == 0
    )  # before registering
    unregistered = posapp("sync", "--once")
    assert unregistered.returncode == 2 and "not registered" in unregistered.stderr
    done = posapp("register", "--hq", base, "--code", code, "--name", "till 1")
    assert done.returncode == 0, done.stderr
    secret_file = data / "device-secret.json"
    assert secret_file.exists() and oct(secret_file.stat().st_mode)[-3:] == "600"
    assert json.loads(secret_file.read_text())["token"] not in done.stdout
    again = posapp("register", "--hq", base, "--code", code)
    assert again.returncode == 2 and "already registered" in again.stderr
    synced = posapp("sync", "--once")
    assert synced.returncode == 0 and "pushed 1" in synced.stdout, synced.stderr
    status = posapp("sync", "status")
    assert "pending:       0 event(s)" in status.stdout and "store:         a" in status.stdout


def test_a_fresh_snapshot_forgets_members_hq_erased_while_the_cursor_was_lost(
    tmp_path: Path, hq: tuple[str, HqDatabase]
) -> None:
    base, hq_db = hq
    a, a_dir = _counter(tmp_path, "a", base, hq_db, "a")
    with a.write() as s:
        kept = enrol_member(s, phone="+8613911112222", consents={Purpose.MEMBERSHIP}, notice=current_notice(),
                            staff_id=None).member_id  # fmt: skip
    with a.write() as s:
        gone = enrol_member(s, phone=PHONE, name="李雷", consents={Purpose.MEMBERSHIP}, notice=current_notice(),
                            staff_id=None).member_id  # fmt: skip
    _sync(a, a_dir)
    with hq_db.write() as session:
        admin.erase_member(
            session, member_id=gone, requested_by="test", now=now(), master_key=MASTER_KEY.encode()
        )
    raw = a.raw()
    raw.execute("UPDATE sync_state SET cursor = 'c:from-another-hq:0:0'")  # HQ will answer 410
    _sync(a, a_dir)
    assert raw.execute("SELECT phone_e164, name FROM member WHERE id = ?", (gone,)).fetchone() == (
        None,
        None,
    )
    assert raw.execute("SELECT phone_e164 FROM member WHERE id = ?", (kept,)).fetchone() == (
        "+8613911112222",
    )
    assert raw.execute("SELECT snapshot_started_at FROM sync_state").fetchone() == (None,)


def test_a_new_counters_first_snapshot_leaves_every_member_index_in_place(
    tmp_path: Path, hq: tuple[str, HqDatabase]
) -> None:
    """The snapshot sets secondary indexes aside while it fills an empty table (and builds
    them at its end); a page that ends a snapshot also rebuilds any a crash left missing."""
    from posapp.store.hq_changes import restore_member_indexes
    from posapp.store.models import Member

    base, hq_db = hq
    first, first_dir = _counter(tmp_path, "first", base, hq_db, "a")
    _sync(first, first_dir)
    for n in range(5):
        with first.write() as s:
            enrol_member(s, phone=f"1381234{n:04d}", consents={Purpose.MEMBERSHIP},
                         notice=current_notice(), staff_id="a-guide")  # fmt: skip
    _sync(first, first_dir)
    db, data = _counter(tmp_path, "fresh", base, hq_db, "a")
    wanted = {index.name for index in Member.__table__.indexes}

    def indexes() -> set[str]:
        rows = db.raw().execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'member'"
        )
        return {r[0] for r in rows} & wanted

    _sync(db, data)
    assert db.raw().execute("SELECT count(*) FROM member").fetchone()[0] == 5
    assert indexes() == wanted
    db.raw().execute("DROP INDEX ix_member_rung")  # as if killed between the two
    with db.write() as session:
        restore_member_indexes(session)
    assert indexes() == wanted
