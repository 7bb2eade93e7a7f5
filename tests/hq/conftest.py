"""HQ tests run twice: on the default SQLite file and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hq_harness import Hq

from posapp.hq.config import HqSettings
from posapp.hq.db import HqDatabase
from posapp.hq.main import create_app
from posapp.hq.migrate import migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hq.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def hq_settings(hq_url: str, tmp_path: Path) -> HqSettings:
    return HqSettings(
        data_dir=tmp_path / "hq", database_url=hq_url, master_key="test-master-key-0123456789"
    )


@pytest.fixture
def hq(hq_settings: HqSettings) -> Iterator[Hq]:
    db = HqDatabase(hq_settings.db_url)
    migrate(db)
    app = create_app(hq_settings, db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Hq(client, db)
    db.close()
