"""Shared fixtures: every DB test starts from a migrated template database copied into tmp_path."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

# The suite never writes to the developer's own keyring: database keys go to files in each
# test's data folder (the documented fallback), and so do subprocesses', by inheritance.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

import pytest
from dbfiles import copy_database
from pgcluster import PgCluster
from roster import CASHIER, GUIDE, MANAGER, STORE_ID
from sysdeps import postgres_problem, require

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
    copy_database(template_db, target)
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
    """One real PostgreSQL per test run; without one, skipped here and failed in CI."""
    require(postgres_problem())
    with PgCluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh database of its own for each test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)
    yield url
    pg_cluster.drop_database(name)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """One line after pytest's own summary: how many tests skipped, for which reasons."""
    yield
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons = Counter(_skip_reason(report) for report in skipped)
    parts = "; ".join(f"{count} × {reason}" for reason, count in reasons.most_common())
    terminalreporter.write_line(f"skipped {len(skipped)}: {parts}")
