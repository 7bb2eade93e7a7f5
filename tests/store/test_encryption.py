"""The counter's data encrypted at rest: unreadable without posapp's key, converted once
from plaintext (surviving a SIGKILL at any step), backed up and restored encrypted, and a
lost or wrong key said plainly, never answered with a second database."""

from __future__ import annotations

import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from store_checks import connect, dump

from posapp.store import cipher
from posapp.store.db import StorageError, UnreadableDatabase, connect_raw
from posapp.store.keys import FALLBACK, load_key
from posapp.store.migrate import (
    backup_dir,
    backup_file,
    current_revision,
    head_revision,
    integrity_check,
    open_database,
    restore_from,
    start_clean,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "schemas" / "posapp-0001.db"
CHILD = Path(__file__).with_name("encrypt_child.py")
PHONE = b"+8613800000001"  # a member of the 0001 fixture
STEPS = ["settled", "backed_up", "exported", "verified", "released", "aside", "swapped", "shredded"]


def _old_counter(tmp_path: Path) -> Path:
    """A data folder as an older posapp left it: a plaintext database with members."""
    path = tmp_path / "data" / "posapp.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    return path


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = connect_raw(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name != 'alembic_version'"
            )
        ]
        return {table: dump(conn, table) for table in tables}
    finally:
        conn.close()


def _plaintext_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` that holds SQLite plaintext or a member's phone."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if data.startswith(cipher.SQLITE_HEADER) or PHONE in data:
                found.append(path)
    return found


def test_a_new_database_is_unreadable_by_plain_sqlite_and_readable_by_posapp(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "posapp.db"
    db = open_database(path)
    try:
        assert db.encrypted and integrity_check(db) == ["ok"]
        assert current_revision(db) == head_revision()
    finally:
        db.close()
    assert cipher.file_state(path) == cipher.ENCRYPTED
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone()
    conn = connect_raw(path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
    conn.close()
    assert (path.parent / FALLBACK).stat().st_mode & 0o777 == 0o600  # no keyring here


def test_a_plaintext_database_is_converted_once_migrated_and_leaves_no_plaintext(
    tmp_path: Path,
) -> None:
    path = _old_counter(tmp_path)
    before = _rows(path)
    assert PHONE in path.read_bytes()
    db = open_database(path)
    try:
        assert db.encrypted and current_revision(db) == head_revision()
        assert integrity_check(db) == ["ok"]
    finally:
        db.close()
    after = _rows(path)
    for table, rows in before.items():  # every old row, in the columns it had then
        width = len(rows[0]) if rows else 0
        assert [row[:width] for row in after[table]] == rows, table
    assert _plaintext_files(path.parent) == []
    backups = sorted(p.name for p in backup_dir(path).iterdir())
    assert len(backups) == 1 and backups[0].startswith("pre-migrate-0001-")  # encrypted too
    assert sorted(p.name for p in path.parent.iterdir() if p.suffix == ".db") == ["posapp.db"]


def test_plaintext_backups_an_older_posapp_left_are_encrypted(tmp_path: Path) -> None:
    path = _old_counter(tmp_path)
    old_backup = backup_dir(path) / "pre-migrate-0001-20260101T000000000000.db"
    old_backup.parent.mkdir()
    shutil.copyfile(FIXTURE, old_backup)
    open_database(path).close()
    assert _plaintext_files(path.parent) == []
    conn = connect_raw(old_backup)  # still a working backup, under the same key
    assert conn.execute("SELECT count(*) FROM member").fetchone() == (3,)
    conn.close()


@pytest.mark.parametrize("step", STEPS)
def test_conversion_killed_at_any_step_loses_nothing_and_ends_with_one_database(
    tmp_path: Path, step: str
) -> None:
    path = _old_counter(tmp_path)
    before = _rows(path)
    killed = subprocess.run(
        [sys.executable, str(CHILD), str(path), step], capture_output=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    db = open_database(path)  # the next start
    try:
        assert db.encrypted and integrity_check(db) == ["ok"]
    finally:
        db.close()
    after = _rows(path)
    for table, rows in before.items():
        width = len(rows[0]) if rows else 0
        assert [row[:width] for row in after[table]] == rows, (step, table)
    leftovers = [
        p.name
        for p in path.parent.iterdir()
        if p.name.startswith("posapp.db") and p.suffix != ".lock"
    ]
    assert sorted(leftovers) == ["posapp.db"], leftovers  # no .plaintext, .encrypting
    assert _plaintext_files(path.parent) == []
    assert not list(backup_dir(path).glob("pre-encrypt-*"))


def test_backup_and_restore_stay_encrypted(tmp_path: Path) -> None:
    path = _old_counter(tmp_path)
    db = open_database(path)
    try:
        copy = backup_file(path, tmp_path / "usb" / "manual.db")
        assert cipher.file_state(copy) == cipher.ENCRYPTED and PHONE not in copy.read_bytes()
        raw = db.raw()
        raw.execute("DELETE FROM outbox_event")  # a mistake the backup must undo
        raw.close()
        assert restore_from(db, copy) == head_revision()
        conn = connect(path)
        assert conn.execute("SELECT count(*) FROM outbox_event").fetchone()[0] >= 5
        conn.close()
        (undo,) = backup_dir(path).glob("pre-restore-*.db")  # the data just replaced
        assert cipher.file_state(undo) == cipher.ENCRYPTED
    finally:
        db.close()


def test_a_backup_from_another_counter_is_refused(tmp_path: Path) -> None:
    other = open_database(tmp_path / "other" / "posapp.db")
    other.close()
    foreign = backup_file(tmp_path / "other" / "posapp.db", tmp_path / "foreign.db")
    db = open_database(tmp_path / "data" / "posapp.db")
    try:
        with pytest.raises(StorageError, match="cannot be read with this machine's key"):
            restore_from(db, foreign)
    finally:
        db.close()


@pytest.mark.parametrize("loss", ["missing", "wrong"])
def test_a_lost_key_is_said_plainly_and_no_second_database_is_made(
    tmp_path: Path, loss: str
) -> None:
    path = tmp_path / "data" / "posapp.db"
    open_database(path).close()
    key_file = path.parent / FALLBACK
    if loss == "missing":
        key_file.unlink()
    else:
        key_file.write_text(secrets.token_hex(32))
    before = path.read_bytes()

    with pytest.raises(UnreadableDatabase) as refused:
        open_database(path)
    message = refused.value.message
    assert "cannot be read with this machine's key" in message
    assert "posapp reset --start-clean" in message and "not deleted" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.suffix != ".lock") == sorted(
        ["posapp.db", *([FALLBACK] if loss == "wrong" else [])]
    )

    moved = start_clean(path)  # what `posapp reset --start-clean` does
    assert moved.read_bytes() == before and not path.exists()
    db = open_database(path)  # a clean start, to fill from HQ again
    db.close()
    assert cipher.file_state(moved) == cipher.ENCRYPTED and moved.exists()


def test_start_clean_refuses_a_database_that_opens(tmp_path: Path) -> None:
    path = tmp_path / "data" / "posapp.db"
    open_database(path).close()
    with pytest.raises(StorageError, match="nothing was moved"):
        start_clean(path)
    assert path.exists()


class _MemoryKeyring(KeyringBackend):
    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def test_with_an_os_keyring_the_key_is_kept_there_not_in_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    monkeypatch.setattr(keyring, "get_password", backend.get_password)
    monkeypatch.setattr(keyring, "set_password", backend.set_password)
    path = tmp_path / "data" / "posapp.db"
    db = open_database(path)
    db.close()
    assert not (path.parent / FALLBACK).exists()
    key = load_key(path.parent)
    assert key is not None and key.where == "keyring" and len(key.raw) == 32
    assert key.raw.hex() not in repr(key)
    assert list(backend.secrets.values()) == [key.raw.hex()]
    open_database(path).close()  # the same key opens it again


def test_an_export_killed_half_way_leaves_nothing_that_spoils_the_next(tmp_path: Path) -> None:
    """Killed inside sqlcipher_export: a partial copy and its hot journal stay behind."""
    path = _old_counter(tmp_path)
    before = _rows(path)
    partial = path.with_name(path.name + ".encrypting")
    partial.write_bytes(secrets.token_bytes(8192))
    journal = partial.with_name(partial.name + "-journal")
    journal.write_bytes(secrets.token_bytes(4096))
    open_database(path).close()
    assert not partial.exists() and not journal.exists()
    after = _rows(path)
    for table, rows in before.items():
        width = len(rows[0]) if rows else 0
        assert [row[:width] for row in after[table]] == rows, table


def test_a_write_by_another_program_during_the_conversion_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite cannot tell that an older posapp has the file open; a write it makes while the
    conversion runs is seen (the change counter moved), and the plaintext stays in charge."""
    path = _old_counter(tmp_path)

    def another_program_writes(step: str) -> None:
        if step == "released":
            other = sqlite3.connect(path)
            other.execute("DELETE FROM outbox_event WHERE seq = 1")
            other.commit()
            other.close()

    monkeypatch.setattr(cipher, "checkpoint", another_program_writes)
    with pytest.raises(StorageError) as refused:
        open_database(path)
    assert refused.value.rule == "busy"
    assert cipher.file_state(path) == cipher.PLAINTEXT  # with that write, and no copy beside it
    assert not path.with_name(path.name + ".encrypting").exists()
    monkeypatch.undo()
    before = _rows(path)
    open_database(path).close()  # the next start converts
    assert cipher.file_state(path) == cipher.ENCRYPTED
    assert len(_rows(path)["outbox_event"]) == len(before["outbox_event"])
