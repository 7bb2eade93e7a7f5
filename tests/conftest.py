"""Shared fixtures: every DB test starts from a migrated template database copied into tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from posapp.domain.consent import Notice
from posapp.resources import current_notice
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.store.models import Staff, Store

STORE_ID = "test-store"
CASHIER = "cashier-1"
GUIDE = "guide-1"
MANAGER = "manager-1"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per run, with one store and its roster."""
    path = tmp_path_factory.mktemp("template") / "posapp.db"
    db = open_database(path)
    with db.write() as session:
        session.add(Store(id=STORE_ID, name="测试门店", region="CN", currency="CNY"))
        session.flush()
        session.add_all(
            [
                Staff(id=CASHIER, store_id=STORE_ID, name="刘洋", role="cashier", active=True),
                Staff(id=GUIDE, store_id=STORE_ID, name="王芳", role="guide", active=True),
                Staff(id=MANAGER, store_id=STORE_ID, name="周店长", role="manager", active=True),
            ]
        )
    db.raw().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    """A private copy of the template, so tests never share state."""
    target = tmp_path / "data" / "posapp.db"
    target.parent.mkdir()
    shutil.copyfile(template_db, target)
    return target


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(db_path)
    yield database
    database.close()


@pytest.fixture(scope="session")
def notice() -> Notice:
    return current_notice("zh-CN")
