"""SMS codes at a real HQ process: a code is spent by the join it proves (another browser
with the same phone and code gets no member code), and a member's referral QR serves more
than five friends, its limits counted per phone and per day."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from join_world import JoinWorld, Visitor, join_world, member_code
from sync_world import now

from posapp.hq import admin

PHONE, E164 = "13812345678", "+8613812345678"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[JoinWorld]:
    with join_world(tmp_path) as started:
        yield started


def _join(world: JoinWorld, token: str, phone: str) -> str | None:
    visitor = Visitor(f"{world.base}/j/{token}")
    visitor.open()
    sent = visitor.post("send", phone)
    assert sent.status_code == 200, sent.text
    code = world.code_for("+86" + phone)
    assert code is not None, sent.text
    return member_code(visitor.post("join", phone, code=code))


def test_a_used_sms_code_is_refused(world: JoinWorld) -> None:
    referrer = _join(world, world.token(), "13900000000")
    assert referrer is not None
    token = world.token(referrer=referrer)  # a referral QR stays open for every friend
    friend = Visitor(f"{world.base}/j/{token}")
    friend.open()
    friend.post("send", PHONE)
    code = world.code_for(E164)
    assert code is not None
    number = member_code(friend.post("join", PHONE, code=code))
    assert number is not None
    # Someone else who saw the friend's phone and code, within the code's five minutes:
    other = Visitor(f"{world.base}/j/{token}")
    assert other.open().status_code == 200
    reused = other.post("join", PHONE, code=code)
    assert reused.status_code == 200 and member_code(reused) is None
    assert number not in reused.text and "已经用过" in reused.text
    # The friend's own double tap (same browser, same submission) still answers them.
    assert member_code(friend.post("join", PHONE, code=code)) == number
    assert world.scalar("SELECT count(*) FROM member") == 2


def test_a_referral_qr_serves_more_than_five_friends(world: JoinWorld) -> None:
    referrer = _join(world, world.token(), PHONE)
    assert referrer is not None
    shared = world.token(referrer=referrer)
    friends = [f"139555500{n:02d}" for n in range(8)]
    joined = [_join(world, shared, phone) for phone in friends]
    assert all(joined) and len(set(joined)) == len(friends)
    assert world.scalar("SELECT referrals FROM member WHERE member_code = :c", c=referrer) == 8


def test_an_erased_member_who_joined_on_the_page_leaves_no_phone_in_hqs_data_dir(
    world: JoinWorld,
) -> None:
    number = _join(world, world.token(), PHONE)
    assert number is not None
    with world.hq_db.write() as session:
        admin_key = admin.add_credential(session, kind="admin", name="t", now=now())
    member = world.scalar("SELECT id FROM member WHERE member_code = :c", c=number)

    def holding() -> list[str]:
        return [p.name for p in world.data.rglob("*") if p.is_file() and PHONE.encode() in
                p.read_bytes()]  # fmt: skip

    assert "sms-outbox.jsonl" in holding()  # the development sender keeps what it sent
    erased = requests.post(f"{world.base}/v1/members/{member}/erase", timeout=30,
                           headers={"Authorization": f"Bearer {admin_key}"})  # fmt: skip
    assert erased.status_code == 200, erased.text
    assert holding() == []
