"""Shared fixtures: every DB test starts from a migrated template database copied into tmp_path."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgcluster import PgCluster, pg_available
from roster import CASHIER, GUIDE, MANAGER, STORE_ID

from posapp.domain.consent import Notice
from posapp.resources import current_notice
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.store.models import Staff, Store


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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One real PostgreSQL 15 per test run. Missing PostgreSQL is a failure, never a skip."""
    reason = pg_available()
    if reason:
        where = "in CI" if os.environ.get("CI") == "true" else "here"
        pytest.fail(f"PostgreSQL is needed {where}: {reason}", pytrace=False)
    with PgCluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh database of its own for each test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)
    yield url
    pg_cluster.drop_database(name)
