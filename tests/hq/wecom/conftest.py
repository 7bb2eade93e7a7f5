"""WeCom tests: HQ's database (SQLite and PostgreSQL, from tests/hq/conftest.py), a fake
WeCom on loopback, and the real adapter pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from posapp.domain import invite as invites
from posapp.domain.ladder import Channel
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.hq.models import InviteRecord, Member, Redemption, Staff, Store
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.fake import FakeWeCom
from posapp.hq.wecom.gateway import SdkGateway
from posapp.timefmt import utcnow

STORE = "store-1"
GUIDE_A, GUIDE_B = "staff-a", "staff-b"


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


_serial = iter(range(1, 10_000))


def new_invite(db: HqDatabase, *, staff_no: int = 11, member_id: str | None = None) -> str:
    """A guide-contact invite the counter reported; redeemed by ``member_id`` if given."""
    token = invites.issue(
        invites.Invite(Channel.GUIDE_CONTACT, 7, date.today(), device_no=1, staff_no=staff_no,
                       serial=next(_serial)),
        b"k" * 32,
    )  # fmt: skip
    now = utcnow()
    with db.transaction() as session:
        session.add(InviteRecord(token=token, store_id=STORE, device_id="d1",
                                 channel="guide_contact", issued_at=now))  # fmt: skip
    if member_id is not None:
        redeem(db, token, member_id)
    return token


def add_member(db: HqDatabase, member_id: str, *, unionid: str | None = None) -> None:
    now = utcnow()
    with db.transaction() as session:
        session.add(Member(id=member_id, member_code=member_id[-8:].rjust(8, "0"), rung="member",
                           enrolled_at=now, updated_at=now, wechat_unionid=unionid))  # fmt: skip


def redeem(db: HqDatabase, token: str, member_id: str) -> None:
    if not _exists(db, member_id):
        add_member(db, member_id)
    with db.transaction() as session:
        session.add(Redemption(token=token, store_id=STORE, member_id=member_id, guide_id=GUIDE_A,
                               channel="guide_contact", response="{}", redeemed_at=utcnow()))  # fmt: skip


def _exists(db: HqDatabase, member_id: str) -> bool:
    with db.read() as session:
        return session.get(Member, member_id) is not None


@dataclass
class Wired:
    """What the lead's routes will do, in one place for the tests."""

    db: HqDatabase
    gateway: SdkGateway
    settings: WeComSettings

    def qr(self, token: str, userid: str = "guide.a", staff_id: str = GUIDE_A) -> str | None:
        from posapp.hq.wecom.contact_ways import contact_way_for_invite

        return contact_way_for_invite(
            self.db.transaction, self.gateway, token, userid, staff_id=staff_id, store_id=STORE,
            expires_at=utcnow() + timedelta(days=7),
        ).qr_code  # fmt: skip

    def deliver(self, callback: object) -> bool:
        from posapp.hq.wecom.callbacks import accept_callback

        with self.db.transaction() as session:
            return accept_callback(session, self.settings, callback.query, callback.body)  # type: ignore[attr-defined]

    def process(self, **options: object) -> int:
        from posapp.hq.wecom.callbacks import process_callbacks

        return process_callbacks(self.db.transaction, self.gateway, self.settings, **options)  # type: ignore[arg-type]


@pytest.fixture
def wired(db: HqDatabase, gateway: SdkGateway, settings: WeComSettings) -> Wired:
    return Wired(db, gateway, settings)
