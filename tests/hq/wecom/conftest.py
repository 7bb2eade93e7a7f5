"""WeCom tests: HQ's database (SQLite and PostgreSQL, from tests/hq/conftest.py), a fake
WeCom on loopback, and the real adapter pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from wecom_harness import GUIDE_A, GUIDE_B, STORE, Wired

from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.hq.models import Staff, Store
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.fake import FakeWeCom
from posapp.hq.wecom.gateway import SdkGateway
from posapp.timefmt import utcnow


@pytest.fixture
def db(hq_url: str) -> Iterator[HqDatabase]:
    database = HqDatabase(hq_url)
    migrate(database)
    now = utcnow()
    with database.transaction() as session:
        session.add(Store(id=STORE, store_no=7, name="Jing'an", created_at=now))
        session.flush()
        for staff_id, number in ((GUIDE_A, 11), (GUIDE_B, 12)):
            session.add(Staff(id=staff_id, store_id=STORE, staff_no=number, name=staff_id,
                              role="guide", pin_hash="x", updated_at=now))  # fmt: skip
    yield database
    database.close()


@pytest.fixture
def fake() -> Iterator[FakeWeCom]:
    with FakeWeCom() as running:
        yield running


@pytest.fixture
def settings(fake: FakeWeCom) -> WeComSettings:
    return WeComSettings(
        corp_id=fake.corp_id,
        secret=fake.secret,
        callback_token=fake.callback_token,
        encoding_aes_key=fake.encoding_aes_key,
        api_base_url=fake.api_base_url,
        timeout_s=0.5,
        retries=2,
        backoff_s=0.01,
        welcome_text="欢迎光临",
    )


@pytest.fixture
def gateway(settings: WeComSettings, db: HqDatabase) -> SdkGateway:
    return SdkGateway(settings, db.transaction, sleep=lambda _s: None)


@pytest.fixture
def wired(db: HqDatabase, gateway: SdkGateway, settings: WeComSettings) -> Wired:
    return Wired(db, gateway, settings)
