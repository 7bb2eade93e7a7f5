"""The background sync worker: signals to the GUI thread, which never stalls while it runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hq_load import free_port, hq_process
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot
from sync_world import now

from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.store.models import SyncState
from posapp.sync.engine import RoundResult, SyncEngine
from posapp.sync.registration import client_for, register
from posapp.sync.status import SyncStatus, sync_status
from posapp.ui.sync_worker import SyncWorker


@pytest.fixture
def counter(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    hq_db = HqDatabase(url)
    migrate(hq_db)
    with hq_db.write() as session:
        admin.add_store(session, store_id="a", name="门店", now=now())
        code = admin.device_code(session, store_id="a", now=now(), minutes=10)
    data = tmp_path / "till"
    db = open_database(data / "posapp.db")
    with hq_process(url, tmp_path) as base:
        register(db, data, hq_url=base, code=code)
        yield db, data
    db.close()
    hq_db.close()


def test_a_big_backlog_syncs_in_the_background_without_stalling_the_gui(
    qtbot: QtBot, counter: tuple[Database, Path]
) -> None:
    db, data = counter
    for i in range(1_500):
        with db.write() as s:
            record_sale(s, receipt_no=f"R{i}", amount=100 + i)
    worker = SyncWorker(
        lambda: SyncEngine(db, client_for(db, data)), lambda: sync_status(db), interval_ms=600_000
    )
    gaps: list[float] = []
    last = [time.perf_counter()]

    def probe() -> None:
        t = time.perf_counter()
        gaps.append(t - last[0])
        last[0] = t

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(probe)
    timer.start()
    statuses: list[SyncStatus] = []
    worker.sig_status.connect(statuses.append)
    try:
        with qtbot.waitSignal(worker.sig_synced, timeout=120_000) as blocker:
            worker.start()
        qtbot.waitUntil(lambda: bool(statuses), timeout=10_000)
    finally:
        timer.stop()
        worker.stop()
    result = blocker.args[0]
    assert isinstance(result, RoundResult) and result.pushed == 1_500
    assert statuses[-1].pending == 0 and statuses[-1].online
    assert len(gaps) > 20
    print(f"GUI probe: {len(gaps)} ticks, longest gap {max(gaps) * 1000:.1f} ms")
    assert max(gaps) < 0.25, f"the GUI thread stalled for {max(gaps) * 1000:.0f} ms"


def test_hq_down_is_reported_in_plain_words_and_kept_in_status(
    qtbot: QtBot, tmp_path: Path
) -> None:
    data = tmp_path / "till"
    db = open_database(data / "posapp.db")
    from posapp.sync import credentials

    with db.write() as s:
        device_id = s.get(SyncState, 1).device_id  # type: ignore[union-attr]
        s.get(SyncState, 1).hq_url = f"http://127.0.0.1:{free_port()}"  # type: ignore[union-attr]
    credentials.save(data, device_id, "d.x.y", "00" * 32)

    def engine() -> SyncEngine:
        client = client_for(db, data)
        client.attempts, client.sleep = 2, lambda _: None
        return SyncEngine(db, client)

    worker = SyncWorker(engine, lambda: sync_status(db), interval_ms=600_000)
    statuses: list[SyncStatus] = []
    worker.sig_status.connect(statuses.append)
    try:
        with qtbot.waitSignal(worker.sig_failed, timeout=30_000) as blocker:
            worker.start()
        qtbot.waitUntil(lambda: bool(statuses), timeout=10_000)
    finally:
        worker.stop()
    assert "cannot be reached" in blocker.args[0]
    assert statuses[-1].last_error and not statuses[-1].online
    db.close()


def test_the_sync_lock_taken_on_one_thread_is_given_back_on_another(tmp_path: Path) -> None:
    import threading

    from posapp.sync.lock import SyncBusy, take_sync_lock

    held = []
    worker = threading.Thread(target=lambda: held.append(take_sync_lock(tmp_path)))
    worker.start()
    worker.join()
    with pytest.raises(SyncBusy):
        take_sync_lock(tmp_path)
    held[0].release()  # the window closing, on the GUI thread
    take_sync_lock(tmp_path).release()
