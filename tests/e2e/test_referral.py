"""A member's referral QR, end to end: a counter and a real HQ process over real HTTP.

The counter enrols member A and issues A's own referral invite; a friend redeems it through
HQ's partner API (as WeChat's side does); the counter syncs and sees the friend as a member,
A's referral counted, and A climbing to super-member where the ladder asks for a referral.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from hq_load import hq_process
from sqlalchemy import text
from sync_world import now, registered_counter

from posapp.domain.consent import Purpose
from posapp.domain.invite import ALPHABET, Offer, peek
from posapp.domain.ladder import Channel, Rung
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.invites import issue_invite
from posapp.services.members import enrol_member, identify
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for, invite_signer

STORE = "a"
GUIDE = "a-guide"
PHONE_A = "+8613812345678"
PHONE_FRIEND = "+8613955550001"
NOTICE = current_notice()
CONSENT = [
    {
        "purpose": "membership",
        "granted": True,
        "notice": {"notice_id": NOTICE.notice_id, "version": NOTICE.version,
                   "language": NOTICE.language, "text_hash": NOTICE.text_hash},
    }
]  # fmt: skip
# One purchase and 100 yuan already make A a regular with a guide; a single referral is
# what is still missing for super-member.
LADDER = {
    "regular_min_purchases": 1,
    "super_min_purchases": 1,
    "super_min_spend_fen": 10_000,
    "super_min_referrals": 1,
}


@dataclass
class World:
    base: str
    hq_db: HqDatabase
    partner_key: str
    counter: Database
    data: Path

    def sync(self) -> None:
        result = SyncEngine(self.counter, client_for(self.counter, self.data)).run_once()
        assert not result.rejected, result

    def redeem(self, token: str, phone: str) -> requests.Response:
        """What the mini-program backend sends when a customer scans the QR in WeChat."""
        return requests.post(
            f"{self.base}/v1/invites/redeem",
            json={"token": token, "phone": phone, "consents": CONSENT, "wechat_openid": "o-friend"},
            headers={"Authorization": f"Bearer {self.partner_key}"},
            timeout=30,
        )

    def hq_scalar(self, sql: str, **params: Any) -> Any:
        with self.hq_db.read() as session:
            return session.execute(text(sql), params).scalar_one()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    hq_db = HqDatabase(url)
    migrate(hq_db)
    with hq_db.write() as session:
        admin.add_store(session, store_id=STORE, name="门店 a", now=now())
        admin.add_staff(session, store_id=STORE, name="王芳", role="guide", pin="2468", now=now(),
                        staff_id=GUIDE)  # fmt: skip
        admin.set_rules(session, kind="ladder", body=LADDER, now=now())
        partner_key = admin.add_credential(session, kind="partner", name="wechat", now=now())
    with hq_process(url, tmp_path) as base:
        counter = registered_counter(tmp_path / "till", base=base, hq_db=hq_db, store=STORE)
        yield World(base, hq_db, partner_key, counter, tmp_path / "till")
        counter.close()
    hq_db.close()


def _one_character_changed(token: str) -> str:
    """The last character moved one place in the alphabet: the MAC no longer matches."""
    last = ALPHABET.index(token[-1])
    return token[:-1] + ALPHABET[last + 1 if last < len(ALPHABET) - 1 else last - 1]


def test_a_friend_redeeming_a_members_referral_qr_is_credited_to_them_at_the_store(
    world: World,
) -> None:
    world.sync()  # store, roster and HQ's ladder rules arrive
    with world.counter.write() as s:
        member_a = enrol_member(s, phone=PHONE_A, name="李雷", consents={Purpose.MEMBERSHIP},
                                notice=NOTICE, staff_id=GUIDE).member_id  # fmt: skip
    with world.counter.write() as s:
        record_sale(s, receipt_no="A-1", amount="100", member_id=member_a, staff_id=GUIDE)
    world.sync()
    with world.counter.lookup() as lookup:
        before = identify(lookup, PHONE_A).card
    assert before is not None and before.id == member_a
    assert before.summary.rung == Rung.REGULAR.value  # HQ's rung, as it flowed down
    assert before.assessment.rung is Rung.REGULAR
    assert before.assessment.reasons == ("referrals",)  # the one thing still missing
    assert before.assessment.next_step.offer_referral

    with world.counter.write() as s:
        issued = issue_invite(s, invite_signer(world.counter, world.data),
                              offer=Offer(Channel.MINI_PROGRAM, referral=True),
                              staff_id=GUIDE, member_id=member_a)  # fmt: skip
    assert issued.referral and issued.url.endswith("/j/" + issued.token)
    code_a = (
        world.counter.raw()
        .execute("SELECT member_code FROM member WHERE id = ?", (member_a,))
        .fetchone()[0]
    )
    assert peek(issued.token).referrer_code == code_a
    world.sync()
    assert world.hq_scalar("SELECT count(*) FROM event WHERE type = 'invite.issued'") == 1

    # A forged token (one character changed) is refused precisely and creates nobody.
    forged = world.redeem(_one_character_changed(issued.token), PHONE_FRIEND)
    assert forged.status_code == 422, forged.text
    assert forged.json()["error"] == "token.bad_mac"
    assert forged.json()["message"] == "This invite was not made by the store it names."
    assert world.hq_scalar("SELECT count(*) FROM member WHERE phone_e164 = :p", p=PHONE_FRIEND) == 0

    answer = world.redeem(issued.token, PHONE_FRIEND)
    assert answer.status_code == 200, answer.text
    joined = answer.json()
    assert joined["created"] and joined["store_id"] == STORE
    assert joined["referred_by"] == member_a and joined["guide_id"] is None
    friend = joined["member_id"]
    assert world.hq_scalar("SELECT referred_by FROM member WHERE id = :m", m=friend) == member_a
    assert world.hq_scalar("SELECT referrals FROM member WHERE id = :m", m=member_a) == 1

    # The same friend again (WeChat retrying): HQ answers the first redemption again,
    # creates no one and does not credit A twice.
    again = world.redeem(issued.token, PHONE_FRIEND)
    assert again.status_code == 200 and again.json() == joined
    assert world.hq_scalar("SELECT count(*) FROM member") == 2
    assert world.hq_scalar("SELECT referrals FROM member WHERE id = :m", m=member_a) == 1

    world.sync()
    with world.counter.lookup() as lookup:
        found = identify(lookup, PHONE_FRIEND)
        after = identify(lookup, PHONE_A).card
    assert found.card is not None and found.card.id == friend
    assert found.card.summary.member_code == joined["member_code"]
    # HQ's consent decisions came down with the friend: a member here, not a walk-in.
    assert found.card.consents[Purpose.MEMBERSHIP]
    assert found.card.summary.rung == Rung.MEMBER.value
    assert found.card.assessment.rung is Rung.MEMBER
    assert after is not None and after.id == member_a
    raw = world.counter.raw()
    assert raw.execute("SELECT referrals FROM member WHERE id = ?", (member_a,)).fetchone() == (1,)
    # One referral plus A's purchase and spend: super-member, at HQ and at the counter.
    assert world.hq_scalar("SELECT rung FROM member WHERE id = :m", m=member_a) == "super_member"
    assert after.summary.rung == Rung.SUPER_MEMBER.value
    assert after.assessment.rung is Rung.SUPER_MEMBER
    assert after.assessment.next_step.channel is Channel.APP
    # The counter's own record of the QR still says whose it was.
    assert raw.execute(
        "SELECT member_id FROM invite WHERE token = ?", (issued.token,)
    ).fetchone() == (member_a,)
    # The friend's first sale at the counter keeps them a member (no demotion to walk-in).
    with world.counter.write() as s:
        record_sale(s, receipt_no="F-1", amount="20", member_id=friend, staff_id=GUIDE)
    assert raw.execute("SELECT rung FROM member WHERE id = ?", (friend,)).fetchone() == ("member",)
    # Syncing again changes nothing for A: credited once; no consent mirrored twice.
    world.sync()
    assert raw.execute("SELECT referrals FROM member WHERE id = ?", (member_a,)).fetchone() == (1,)
    assert raw.execute("SELECT count(*) FROM member").fetchone() == (2,)
    assert raw.execute(
        "SELECT count(*) FROM consent_record WHERE member_id = ?", (friend,)
    ).fetchone() == (1,)

    # A second friend scans the same referral QR: a member too, and A is credited again.
    second = world.redeem(issued.token, "+8613955550002")
    assert second.status_code == 200 and second.json()["created"]
    assert second.json()["member_id"] != friend and second.json()["referred_by"] == member_a
    assert world.hq_scalar("SELECT referrals FROM member WHERE id = :m", m=member_a) == 2


def test_a_staff_invite_is_one_customers_a_retry_is_answered_anyone_else_refused(
    world: World,
) -> None:
    world.sync()  # the roster
    signer = invite_signer(world.counter, world.data)
    with world.counter.write() as s:
        walk_in = issue_invite(s, signer, offer=Offer(Channel.MINI_PROGRAM), staff_id=GUIDE)
    world.sync()
    first = world.redeem(walk_in.token, PHONE_FRIEND)
    assert first.status_code == 200 and first.json()["created"]
    assert world.redeem(walk_in.token, PHONE_FRIEND).json() == first.json()
    stranger = world.redeem(walk_in.token, "+8613955550009")
    assert stranger.status_code == 422 and stranger.json()["error"] == "token.used"
    assert first.json()["member_code"] not in stranger.text
    assert world.hq_scalar("SELECT count(*) FROM member WHERE phone_e164 = '+8613955550009'") == 0
