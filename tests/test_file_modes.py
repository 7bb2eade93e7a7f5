"""What posapp writes is its user's alone: files 0600, the data folder (and logs/, backups/)
0700, whatever the umask; looser files from an older version are tightened on open. HQ's
own SQLite files too. POSIX only (Windows keeps the profile folder's ACLs)."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from posapp.crashlog import install_crash_log, log_path
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate as migrate_hq
from posapp.settings import load_settings
from posapp.store.migrate import head_revision, known_revisions, open_database, upgrade_to
from posapp.sync import credentials

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): mode(p) for p in sorted(folder.rglob("*"))}


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """A till's usual umask lets everyone read new files: posapp must not rely on it."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _loose(path: Path) -> Path:
    path.chmod(0o644)
    return path


def test_everything_a_counter_writes_through_the_cli_is_private(tmp_path: Path) -> None:
    data = tmp_path / "till"
    run = [sys.executable, "-m", "posapp", "--data-dir", str(data)]
    for args in (
        ["enrol", "--phone", "13812345678", "--consent", "membership"],
        ["sale", "--receipt", "R1", "--amount", "12.00", "--member", "13812345678"],
        ["backup"],
    ):
        done = subprocess.run([*run, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    found = modes(data)
    assert {"posapp.db", "settings.json", "backups"} <= set(found)
    assert any(name.startswith("backups/manual-") for name in found)
    assert mode(data) == 0o700
    for name, bits in found.items():
        wanted = 0o700 if (data / name).is_dir() else 0o600
        assert bits == wanted, f"{name} is {bits:o}"


def test_the_database_its_wal_and_shm_are_0600_in_a_0700_folder(tmp_path: Path) -> None:
    db = open_database(tmp_path / "data" / "posapp.db")
    try:
        raw = db.raw()
        raw.execute("CREATE TABLE probe(x)")  # the WAL and -shm exist while it is open
        names = {p.name: mode(p) for p in db.path.parent.iterdir()}
        raw.close()
    finally:
        db.close()
    assert names["posapp.db-wal"] == names["posapp.db-shm"] == names["posapp.db"] == 0o600
    assert mode(tmp_path / "data") == 0o700


def test_a_pre_migration_backup_is_0600_in_a_0700_backups_folder(tmp_path: Path) -> None:
    path = tmp_path / "data" / "posapp.db"
    db = open_database(path, migrate_schema=False)
    upgrade_to(db, known_revisions()[-2])  # an older posapp's database
    db.close()
    db = open_database(path)  # migrates, backing up first
    try:
        assert db and head_revision()
    finally:
        db.close()
    backups = list((tmp_path / "data" / "backups").glob("pre-migrate-*.db"))
    assert len(backups) == 1
    assert mode(backups[0]) == 0o600 and mode(backups[0].parent) == 0o700


def test_files_from_before_are_tightened_when_posapp_opens_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = load_settings(data)
    open_database(settings.db_path).close()
    data.chmod(0o755)
    for path in (settings.file, settings.db_path):
        _loose(path)
    load_settings(data)
    open_database(settings.db_path).close()
    assert mode(data) == 0o700
    assert mode(settings.file) == mode(settings.db_path) == 0o600


def test_the_log_and_its_rotations_are_0600(tmp_path: Path) -> None:
    path = install_crash_log(tmp_path)
    handler = next(
        h for h in logging.getLogger().handlers if getattr(h, "baseFilename", "") == str(path)
    )
    try:
        logging.getLogger("posapp.test").warning("one line")
        handler.doRollover()  # type: ignore[attr-defined]
        logging.getLogger("posapp.test").warning("another")
        handler.flush()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert path == log_path(tmp_path)
    assert mode(path) == mode(path.with_name(path.name + ".1")) == 0o600
    assert mode(path.parent) == 0o700


def test_the_device_secret_without_a_keyring_is_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())  # no OS keyring here
    where = credentials.save(tmp_path / "data", "dev-1", "secret-token", "00" * 32)
    assert where.endswith("device-secret.json")
    assert mode(Path(where)) == 0o600 and mode(tmp_path / "data") == 0o700


def test_hqs_sqlite_database_and_its_wal_are_0600(tmp_path: Path) -> None:
    folder = tmp_path / "hq"
    db = HqDatabase(f"sqlite:///{folder / 'hq.db'}")
    try:
        migrate_hq(db)
        with db.engine.connect() as conn:  # WAL and -shm exist while a connection is open
            conn.exec_driver_sql("SELECT 1")
            found = {p.name: mode(p) for p in folder.iterdir()}
    finally:
        db.close()
    assert found["hq.db"] == found["hq.db-wal"] == found["hq.db-shm"] == 0o600, found
    assert mode(folder) == 0o700
