"""`posapp sync` killed with SIGKILL at named crash points, then run again: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from crashing_sync import CRASH_ENV
from hq_load import hq_process
from sqlalchemy import text
from sync_world import now, registered_counter

from posapp.domain.consent import Purpose
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.members import enrol_member
from posapp.services.sales import record_sale
from posapp.store.migrate import integrity_check, open_database

CRASHING_SYNC = str(Path(__file__).with_name("crashing_sync.py"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[str, HqDatabase, Path]]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    db = HqDatabase(url)
    migrate(db)
    with db.write() as session:
        admin.add_store(session, store_id="a", name="门店", now=now())
        for n in range(30):  # enough staff changes that a pulled page has a middle
            admin.add_staff(
                session, store_id="a", name=f"导购{n}", role="guide", pin="2468", now=now()
            )
    with hq_process(url, tmp_path) as base:
        yield base, db, tmp_path
    db.close()


def _sync(data: Path, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash:
        env[CRASH_ENV] = crash
    return subprocess.run([sys.executable, CRASHING_SYNC, "--data-dir", str(data), "sync", "--once"],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip


@pytest.mark.parametrize("crash", ["after_push_before_ack", "after_ack", "mid_apply"])
def test_killed_at_a_crash_point_the_next_run_finishes_the_job(
    world: tuple[str, HqDatabase, Path], crash: str
) -> None:
    base, hq_db, tmp = world
    data = tmp / "till"
    db = registered_counter(data, base=base, hq_db=hq_db)
    with db.write() as s:
        enrol_member(
            s,
            phone="+8613812345678",
            consents={Purpose.MEMBERSHIP},
            notice=current_notice(),
            staff_id=None,
        )
    for i in range(700):  # two push batches
        with db.write() as s:
            record_sale(s, receipt_no=f"K{i}", amount=100 + i)
    db.close()

    killed = _sync(data, crash)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = _sync(data)
    assert again.returncode == 0, again.stderr

    db = open_database(data / "posapp.db")
    assert integrity_check(db) == ["ok"]
    raw = db.raw()
    assert (
        raw.execute("SELECT count(*) FROM outbox_event WHERE acked_at IS NULL").fetchone()[0] == 0
    )
    staff = raw.execute("SELECT count(*) FROM staff").fetchone()[0]
    assert staff == 30  # the page cut in half by the kill was applied whole on the rerun
    with hq_db.read() as session:
        total, distinct, high = session.execute(
            text("SELECT count(*), count(DISTINCT event_id), max(seq) FROM event")
        ).one()
    assert total == distinct == high == 701
    db.close()
