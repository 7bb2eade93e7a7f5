"""Safe upgrades: every released schema's fixture reaches head intact; a failed upgrade is undone.

The fixtures in tests/fixtures/schemas are written by tools/make_schema_fixtures.py.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from store_checks import NEW_TABLES, OLD_TABLES, check_ledger, columns_of, connect, dump

import posapp.store.migrate as migrate_module
from posapp.store.db import Database, StorageError, connect_raw
from posapp.store.migrate import (
    MigrationFailed,
    SchemaTooNew,
    backup_dir,
    current_revision,
    head_revision,
    integrity_check,
    known_revisions,
    open_database,
    stored_revision,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "schemas"
REGENERATE = "run python tools/make_schema_fixtures.py (it only adds missing files)"


def _fixture(revision: str) -> Path:
    return FIXTURES / f"posapp-{revision}.db"


def _snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table the old schema had, in the columns it had."""
    conn = connect_raw(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        ]
        return {table: dump(conn, table, columns_of(conn, table)) for table in tables}
    finally:
        conn.close()


def _copy(revision: str, tmp_path: Path) -> Path:
    target = tmp_path / "data" / "posapp.db"
    target.parent.mkdir(parents=True)
    shutil.copyfile(_fixture(revision), target)
    return target


def released() -> list[str]:
    """The schemas with a fixture: every release's, oldest first (head may be unreleased)."""
    return sorted(p.stem.removeprefix("posapp-") for p in FIXTURES.glob("posapp-*.db"))


def test_fixtures_cover_every_released_schema_without_gaps() -> None:
    """A release adds its schema's file (tools/make_schema_fixtures.py); none may be skipped."""
    known = known_revisions()
    assert released(), f"no schema fixtures: {REGENERATE}"
    assert released() == known[: len(released())], f"fixtures {released()} vs schemas {known}"


@pytest.mark.parametrize("revision", released())
def test_released_schema_upgrades_to_head_with_every_row(revision: str, tmp_path: Path) -> None:
    path = _copy(revision, tmp_path)
    assert stored_revision(path) == revision
    before = _snapshot(path)
    unsynced = len([r for r in before["outbox_event"] if r[-1] is None])
    assert unsynced >= 5 and len(before["member"]) == 3 and len(before["purchase"]) == 4

    db = open_database(path)
    try:
        assert current_revision(db) == head_revision()
        assert integrity_check(db) == ["ok"]
    finally:
        db.close()

    conn = connect(path)
    try:
        old = sqlite3.connect(_fixture(revision))
        old_columns = {table: columns_of(old, table) for table in before}
        old.close()
        for table, rows in before.items():
            assert dump(conn, table, old_columns[table]) == rows, table
        pending = conn.execute("SELECT count(*) FROM outbox_event WHERE acked_at IS NULL")
        assert pending.fetchone() == (unsynced,)
        assert set(NEW_TABLES) | set(OLD_TABLES) <= {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        ledger = check_ledger(conn)
        assert ledger.events == len(before["outbox_event"]) and ledger.purchases == 4
    finally:
        conn.close()
    backups = list(backup_dir(path).glob(f"pre-migrate-{revision}-*.db"))
    assert len(backups) == (0 if revision == head_revision() else 1)


def _fail_after_partial_upgrade(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> list[str]:
    """Make the upgrade commit one real step, then fail: the worst case, a half-done file."""
    real = migrate_module.upgrade_to
    reached: list[str] = []

    def half_then_fail(db: Database, revision: str) -> None:
        real(db, "0003")
        reached.append(current_revision(db) or "")
        raise exc

    monkeypatch.setattr(migrate_module, "upgrade_to", half_then_fail)
    return reached


@pytest.mark.parametrize(
    "failure",
    [sqlite3.OperationalError("database or disk is full"), KeyError("a bug")],
    ids=["disk_full", "bug"],
)
def test_failed_upgrade_restores_the_backup_and_says_so(
    failure: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy("0001", tmp_path)
    before = _snapshot(path)
    reached = _fail_after_partial_upgrade(monkeypatch, failure)

    with pytest.raises(MigrationFailed) as failed:
        open_database(path)

    assert reached == ["0003"]  # the file really was half-migrated before the restore
    assert failed.value.rule == "migration_failed"
    message = failed.value.message
    assert "0001" in message and head_revision() in message and "put back" in message
    expected = "The disk is full" if isinstance(failure, sqlite3.Error) else "KeyError"
    assert expected in message
    assert failed.value.backup is not None and failed.value.backup.name in message
    assert isinstance(failed.value, StorageError)
    assert stored_revision(path) == "0001"
    assert _snapshot(path) == before
    conn = connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert not set(NEW_TABLES) & {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    conn.close()

    # The next start, with the bug fixed, upgrades the restored file normally.
    monkeypatch.undo()
    db = open_database(path)
    try:
        assert current_revision(db) == head_revision()
    finally:
        db.close()


def test_backups_are_pruned_but_the_newest_kept(tmp_path: Path) -> None:
    path = _copy("0001", tmp_path)
    folder = backup_dir(path)
    folder.mkdir()
    for day in range(1, 9):  # older copies from earlier updates, some of another schema
        (folder / f"pre-migrate-000{day % 2 + 1}-202601{day:02d}T000000000000.db").write_bytes(b"")
    db = open_database(path)
    db.close()
    kept = sorted(p.name for p in folder.glob("pre-migrate-*.db"))
    assert len(kept) == migrate_module.KEEP_BACKUPS
    assert any(name.startswith("pre-migrate-0001-") and "2026010" not in name for name in kept)
    assert "pre-migrate-0002-20260101T000000000000.db" not in kept  # the oldest went first


def test_newer_schema_fixture_is_refused_untouched(tmp_path: Path) -> None:
    path = _copy(released()[-1], tmp_path)
    conn = sqlite3.connect(path)  # the fixture is an old release's file: plaintext
    conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew) as refused:
        open_database(path)
    assert (
        "newer posapp" in refused.value.message and "Nothing was changed" in refused.value.message
    )
    assert path.read_bytes() == before
    assert not backup_dir(path).exists()
