"""What the WeCom tests share: one store with two guides, invites, members, and `Wired`
(HQ's calls into the adapter, as the routes make them). A named module, not conftest:
pytest holds several conftest modules and an import of `conftest` may find another one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from posapp.domain import invite as invites
from posapp.domain.ladder import Channel
from posapp.hq.db import HqDatabase
from posapp.hq.models import InviteRecord, Member, Redemption
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.gateway import SdkGateway
from posapp.timefmt import utcnow

STORE = "store-1"
GUIDE_A, GUIDE_B = "staff-a", "staff-b"


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
