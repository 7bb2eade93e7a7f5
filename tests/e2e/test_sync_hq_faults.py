"""HQ's own failures: killed mid-push and restarted, restored from an older backup; and two
app instances on one data dir."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from filelock import FileLock
from hq_load import MASTER_KEY, free_port
from sqlalchemy import text
from sync_world import now

from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.sync.client import HqError
from posapp.sync.engine import RoundResult, SyncEngine
from posapp.sync.registration import client_for, register


class Hq:
    """A `posapp hq serve` process that can be killed and started again on the same port."""

    def __init__(self, url: str, home: Path) -> None:
        self.url, self.home, self.port = url, home, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **settings: str) -> None:
        env = {**os.environ, "POSAPP_HQ_DATABASE_URL": self.url, "POSAPP_HQ_DATA_DIR": str(self.home),
               "POSAPP_HQ_MASTER_KEY": MASTER_KEY, "POSAPP_HQ_LOG_LEVEL": "warning",
               **{f"POSAPP_HQ_{k.upper()}": v for k, v in settings.items()}}  # fmt: skip
        self.proc = subprocess.Popen([sys.executable, "-m", "posapp", "hq", "serve", "--port", str(self.port)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=15)


def _setup(tmp: Path) -> tuple[Hq, HqDatabase, Database, Path]:
    url = f"sqlite:///{tmp / 'hq.db'}"
    hq_db = HqDatabase(url)
    migrate(hq_db)
    with hq_db.write() as session:
        admin.add_store(session, store_id="a", name="门店", now=now())
        code = admin.device_code(session, store_id="a", now=now(), minutes=10)
    hq = Hq(url, tmp)
    hq.start()
    data = tmp / "till"
    db = open_database(data / "posapp.db")
    register(db, data, hq_url=hq.base, code=code)
    return hq, hq_db, db, data


def _sell(db: Database, prefix: str, count: int) -> None:
    for i in range(count):
        with db.write() as s:
            record_sale(s, receipt_no=f"{prefix}{i}", amount=100 + i)


def _events_at_hq(hq_db: HqDatabase) -> tuple[int, int, int]:
    with hq_db.read() as session:
        return tuple(
            session.execute(
                text("SELECT count(*), count(DISTINCT event_id), max(seq) FROM event")
            ).one()
        )  # type: ignore[return-value]


def _engine(db: Database, data: Path) -> SyncEngine:
    client = client_for(db, data)
    client.sleep = lambda _: time.sleep(0.05)
    return SyncEngine(db, client)


def test_hq_killed_mid_push_and_restarted(tmp_path: Path) -> None:
    hq, hq_db, db, data = _setup(tmp_path)
    _sell(db, "K", 6_000)
    outcome: list[object] = []

    def sync() -> None:
        try:
            outcome.append(_engine(db, data).run_once())
        except HqError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=sync)
    worker.start()
    deadline = time.monotonic() + 60
    while _events_at_hq(hq_db)[0] < 500 and time.monotonic() < deadline:
        time.sleep(0.01)
    hq.kill()  # in the middle of the backlog: some batches in, some not
    at_kill = _events_at_hq(hq_db)[0]
    worker.join(timeout=120)
    assert 500 <= at_kill < 6_000
    hq.start()
    _engine(db, data).run_once()
    hq.kill()
    assert _events_at_hq(hq_db) == (6_000, 6_000, 6_000)
    raw = db.raw()
    assert (
        raw.execute("SELECT count(*) FROM outbox_event WHERE acked_at IS NULL").fetchone()[0] == 0
    )


def _statuses(hq_db: HqDatabase) -> dict[str, int]:
    with hq_db.read() as session:
        return dict(
            session.execute(text("SELECT status, count(*) FROM event GROUP BY status")).all()
        )  # type: ignore[arg-type]


def test_events_acknowledged_but_not_yet_applied_survive_hq_being_killed(tmp_path: Path) -> None:
    hq, hq_db, db, data = _setup(tmp_path)
    hq.kill()
    hq.start(apply_quiet_seconds="600", apply_max_lag_seconds="600")  # it will not apply them
    _sell(db, "P", 1_200)
    engine = _engine(db, data)
    engine.push(RoundResult())
    assert _statuses(hq_db) == {"received": 1_200}  # acknowledged: in the log, not applied
    hq.kill()
    hq.start()  # nobody asks anything: the restarted HQ applies its backlog by itself
    deadline = time.monotonic() + 60
    while _statuses(hq_db) != {"applied": 1_200}:
        assert time.monotonic() < deadline, _statuses(hq_db)
        time.sleep(0.1)
    with hq_db.read() as session:
        assert session.execute(text("SELECT count(*) FROM sale")).scalar_one() == 1_200
    engine.pull(RoundResult())
    hq.kill()
    raw = db.raw()
    assert (
        raw.execute("SELECT count(*) FROM outbox_event WHERE acked_at IS NULL").fetchone()[0] == 0
    )


def test_hq_restored_from_an_older_backup_gets_the_lost_events_again(tmp_path: Path) -> None:
    hq, hq_db, db, data = _setup(tmp_path)
    _sell(db, "A", 100)
    _engine(db, data).run_once()
    hq.kill()
    backup = tmp_path / "hq-backup.db"
    with sqlite3.connect(tmp_path / "hq.db") as src, sqlite3.connect(backup) as dst:
        src.backup(dst)
    hq.start()
    _sell(db, "B", 100)
    _engine(db, data).run_once()
    assert _events_at_hq(hq_db) == (200, 200, 200)
    hq.kill()
    hq_db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'hq.db'}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, tmp_path / "hq.db")  # the disaster: HQ back to the older state
    hq_db = HqDatabase(f"sqlite:///{tmp_path / 'hq.db'}")
    assert _events_at_hq(hq_db) == (100, 100, 100)
    hq.start()
    _sell(db, "C", 10)
    engine = _engine(db, data)
    engine.run_once()  # HQ asks for seq 101 again; the counter still holds it
    engine.run_once()
    hq.kill()
    assert _events_at_hq(hq_db) == (210, 210, 210)
    hq_db.close()


def test_two_app_instances_on_one_data_dir_never_sync_at_once(tmp_path: Path) -> None:
    hq, _, _db, data = _setup(tmp_path)
    try:
        with FileLock(str(data / "sync.lock")):  # the other instance is syncing
            busy = subprocess.run([sys.executable, "-m", "posapp", "--data-dir", str(data), "sync", "--once"],
                                  capture_output=True, text=True, timeout=60)  # fmt: skip
        assert busy.returncode == 2 and "already running" in busy.stderr
        free = subprocess.run([sys.executable, "-m", "posapp", "--data-dir", str(data), "sync", "--once"],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert free.returncode == 0, free.stderr
    finally:
        hq.kill()
