"""Starting the counter: one instance per data dir, and a database that cannot be used explained.

The single-instance checks run real processes (tests/ui/single_instance_child.py) because
the lock and the local socket are between processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

import posapp.store.migrate as migrate_module
from posapp.store.db import Database, connect_raw
from posapp.store.keys import FALLBACK
from posapp.store.migrate import backup_dir, current_revision, head_revision, upgrade_to
from posapp.ui import app as app_module
from posapp.ui import startup
from posapp.ui.single_instance import SingleInstance, server_name

CHILD = Path(__file__).with_name("single_instance_child.py")
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def _child(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The start-up message boxes, captured instead of shown."""
    texts: list[str] = []
    monkeypatch.setattr(startup, "show_start_error", texts.append)
    return texts


@pytest.fixture(autouse=True)
def _no_crash_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """run_counter installs the crash log; keep the test run's own hooks and handlers."""
    import logging
    import threading

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    before = list(logging.getLogger().handlers)
    yield
    for handler in logging.getLogger().handlers[:]:
        if handler not in before:
            logging.getLogger().removeHandler(handler)
            handler.close()


def test_a_second_process_brings_the_first_forward_and_exits(tmp_path: Path) -> None:
    data = tmp_path / "shop data"
    first = _child(data)
    try:
        assert first.stdout is not None
        assert first.stdout.readline() == "first\n"
        second = subprocess.run(
            [sys.executable, str(CHILD), str(data)], capture_output=True, text=True, env=ENV,
            timeout=60,
        )  # fmt: skip
        assert (second.returncode, second.stdout) == (0, "second\n"), second.stderr
        out, err = first.communicate(timeout=30)
        assert first.returncode == 0, err
        assert out == "activated minimized=False\n"  # un-minimised, raised, active
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    # After the first has gone (its lock and socket with it), the next start is first.
    third = _child(data)
    assert third.stdout is not None and third.stdout.readline() == "first\n"
    third.kill()
    third.wait()


def test_a_killed_first_leaves_nothing_that_blocks_the_next_start(tmp_path: Path) -> None:
    first = _child(tmp_path)
    assert first.stdout is not None and first.stdout.readline() == "first\n"
    first.kill()  # no clean-up: its socket file may stay behind
    first.wait()
    again = _child(tmp_path)
    try:
        assert again.stdout is not None and again.stdout.readline() == "first\n"
    finally:
        again.kill()
        again.wait()


def test_the_window_in_this_process_comes_forward(qtbot: QtBot, tmp_path: Path) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    instance = SingleInstance(tmp_path)
    assert instance.claim()
    instance.listen(window)
    try:
        with qtbot.waitSignal(instance.sig_activate, timeout=20_000):
            second = _child(tmp_path)
        out, _ = second.communicate(timeout=30)
        assert (second.returncode, out) == (0, "second\n")
        assert window.isVisible()
    finally:
        instance.release()


def test_the_server_name_is_the_data_dirs_however_spelt(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a" / ".." / "a")
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert str(tmp_path) not in server_name(tmp_path)  # no path (or user name) in the name


def test_run_counter_refuses_a_second_writer(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = SingleInstance(tmp_path)
    assert holder.claim()
    asked: list[str] = []
    monkeypatch.setattr(
        "posapp.ui.single_instance.ask_first_to_activate",
        lambda name, timeout_s: asked.append(name) or True,
    )
    opened: list[Path] = []
    monkeypatch.setattr(startup, "open_counter_database", opened.append)
    try:
        assert app_module.run_counter(tmp_path) == 0
    finally:
        holder.release()
    assert asked == [server_name(tmp_path)] and opened == []
    assert not (tmp_path / "posapp.db").exists()


def test_run_counter_explains_a_database_from_a_newer_posapp(
    qapp: QApplication, tmp_path: Path, shown: list[str]
) -> None:
    path = tmp_path / "posapp.db"
    db = Database(path)
    upgrade_to(db, head_revision())
    db.close()
    conn = connect_raw(path)
    conn.execute("UPDATE alembic_version SET version_num = 'zz99'")
    conn.commit()
    conn.close()
    before = path.read_bytes()

    assert app_module.run_counter(tmp_path) == 3
    assert len(shown) == 1 and "newer posapp (schema zz99)" in shown[0]
    assert "Nothing was changed" in shown[0]
    assert path.read_bytes() == before and not backup_dir(path).exists()
    assert "start refused: schema_too_new" in (tmp_path / "logs" / "posapp.log").read_text()
    # The instance lock went with the refused start: the next start may run.
    again = SingleInstance(tmp_path)
    assert again.claim()
    again.release()


def test_run_counter_explains_a_failed_upgrade_that_was_undone(
    qapp: QApplication, tmp_path: Path, shown: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "posapp.db"
    db = Database(path)
    upgrade_to(db, "0002")
    db.close()
    real = migrate_module.upgrade_to

    def fails_half_way(db: Database, revision: str) -> None:
        real(db, "0003")
        raise RuntimeError("a bug in a migration")

    monkeypatch.setattr(migrate_module, "upgrade_to", fails_half_way)

    assert app_module.run_counter(tmp_path) == 3
    (backup,) = backup_dir(path).glob("pre-migrate-0002-*.db")
    assert len(shown) == 1
    assert f"schema 0002 to {head_revision()}" in shown[0] and str(backup) in shown[0]
    assert "No sale was lost" in shown[0]
    check = Database(path)
    try:
        assert current_revision(check) == "0002"
    finally:
        check.close()


@pytest.fixture
def offered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The unreadable-data box: its text, answered Quit (the default) unless a test says so."""
    texts: list[str] = []
    monkeypatch.setattr(startup, "ask_start_clean", lambda text: texts.append(text) or False)
    return texts


def _unreadable(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "posapp.db"
    Database(path).close()
    (tmp_path / FALLBACK).write_text("ab" * 32)  # another machine's key, or a lost one
    return path, path.read_bytes()


def test_run_counter_says_plainly_that_the_data_cannot_be_read_with_this_machines_key(
    qapp: QApplication, tmp_path: Path, shown: list[str], offered: list[str]
) -> None:
    path, before = _unreadable(tmp_path)

    assert app_module.run_counter(tmp_path) == 3  # Quit
    assert shown == [] and len(offered) == 1
    assert "cannot be read with this computer's key" in offered[0] and str(path) in offered[0]
    assert "Start clean" in offered[0] and "not deleted" in offered[0]  # the offer, and its cost
    assert path.read_bytes() == before  # untouched, and no second database beside it
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".db" and p != path]


def test_start_clean_from_the_box_keeps_the_unreadable_file_and_opens_an_empty_one(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, before = _unreadable(tmp_path)
    monkeypatch.setattr(startup, "ask_start_clean", lambda _text: True)

    db = startup.open_counter_database(path)
    assert db is not None
    try:
        raw = db.raw()
        assert raw.execute("SELECT count(*) FROM member").fetchone() == (0,)
        raw.close()
    finally:
        db.close()
    kept = [p for p in tmp_path.iterdir() if p != path and p.read_bytes() == before]
    assert len(kept) == 1  # set aside byte for byte, not deleted
