"""Issuing invites at the counter: signed offline, kept, reported to HQ, chosen by the ladder."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from roster import CASHIER, GUIDE

from posapp.domain import invite as tokens
from posapp.domain.consent import Notice, Purpose
from posapp.domain.errors import InvalidInput
from posapp.domain.invite import DEMO_SIGNER, Offer, Signer
from posapp.domain.ladder import Channel
from posapp.services.invites import invites_for_customer, issue_invite
from posapp.services.members import enrol_member
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.models import Staff

SIGNER = Signer(store_no=4242, device_no=17, key=bytes(range(32)))
NOW = datetime(2026, 11, 25, 10, 0)


def _events(db: Database, kind: str = "invite.issued") -> list[dict[str, object]]:
    rows = (
        db.raw()
        .execute("SELECT payload FROM outbox_event WHERE type = ? ORDER BY seq", (kind,))
        .fetchall()
    )
    return [json.loads(r[0]) for r in rows]


def _enrol(db: Database, notice: Notice, phone: str, guide: str | None = None) -> str:
    with db.write() as s:
        return enrol_member(s, phone=phone, consents={Purpose.MEMBERSHIP}, notice=notice,
                            staff_id=guide, now=NOW).member_id  # fmt: skip


def test_a_walk_in_after_a_sale_gets_a_mini_program_invite_crediting_sale_and_staff(
    db: Database,
) -> None:
    with db.write() as s:
        s.get(Staff, CASHIER).staff_no = 77  # type: ignore[union-attr]
    with db.write() as s:
        sale = record_sale(s, receipt_no="R-1", amount="88", staff_id=CASHIER, now=NOW)
        (issued,) = invites_for_customer(
            s, SIGNER, member_id=None, purchase_id=sale.purchase_id, staff_id=CASHIER, now=NOW
        )
    assert issued.channel is Channel.MINI_PROGRAM and not issued.referral
    assert issued.url == f"https://m.example.cn/j/{issued.token}"
    invite = tokens.verify(issued.token, SIGNER.key, today=NOW.date(), store_no=4242)
    assert (invite.device_no, invite.staff_no, invite.serial) == (17, 77, 1)
    assert issued.expires_on == NOW.date() + timedelta(days=7)
    (event,) = _events(db)
    assert event["token"] == issued.token and event["purchase_id"] == sale.purchase_id
    assert event["staff_id"] == CASHIER and event["member_id"] is None
    with db.write() as s:  # the next invite has the next serial: tokens never repeat
        again = issue_invite(s, SIGNER, offer=Offer(Channel.MINI_PROGRAM), now=NOW)
    assert tokens.peek(again.token).serial == 2 and again.token != issued.token


def test_a_member_is_offered_the_micro_mall_and_hq_templates_apply(
    db: Database, notice: Notice
) -> None:
    member_id = _enrol(db, notice, "13812345678")
    db.raw().execute(
        "INSERT INTO rule_set (kind, body, updated_at) VALUES ('channels', ?, '2026-11-25')",
        (json.dumps({"micro_mall": "https://mall.brand.cn/s?i={token}"}),),
    )
    with db.write() as s:
        (issued,) = invites_for_customer(s, SIGNER, member_id=member_id, now=NOW)
    assert issued.channel is Channel.MICRO_MALL
    assert issued.url == f"https://mall.brand.cn/s?i={issued.token}"
    assert _events(db)[0]["member_id"] == member_id


def test_a_referral_qr_is_the_members_own_and_stable_for_the_day(
    db: Database, notice: Notice
) -> None:
    member_id = _enrol(db, notice, "13812345678", guide=GUIDE)
    offer = Offer(Channel.MINI_PROGRAM, referral=True)
    with db.write() as s:
        first = issue_invite(s, SIGNER, offer=offer, member_id=member_id, now=NOW)
    with db.write() as s:
        second = issue_invite(
            s, SIGNER, offer=offer, member_id=member_id, now=NOW + timedelta(hours=3)
        )
    assert first == second and len(_events(db)) == 1
    code = (
        db.raw().execute("SELECT member_code FROM member WHERE id = ?", (member_id,)).fetchone()[0]
    )
    invite = tokens.verify(first.token, SIGNER.key, today=date(2027, 6, 1))  # valid a year
    assert invite.referrer_code == code
    with pytest.raises(InvalidInput) as err, db.write() as s:
        issue_invite(s, SIGNER, offer=offer, member_id=None, now=NOW)
    assert err.value.rule == "unknown"


def test_a_forged_or_other_store_key_never_verifies(db: Database) -> None:
    with db.write() as s:
        issued = issue_invite(s, DEMO_SIGNER, offer=Offer(Channel.APP), now=NOW)
    with pytest.raises(InvalidInput) as err:
        tokens.verify(issued.token, SIGNER.key, today=NOW.date())
    assert err.value.rule == "bad_mac"
    assert tokens.verify(issued.token, DEMO_SIGNER.key, today=NOW.date()).channel is Channel.APP


def test_an_unknown_staff_member_or_member_issues_nothing(db: Database) -> None:
    with pytest.raises(InvalidInput), db.write() as s:
        issue_invite(s, SIGNER, offer=Offer(Channel.APP), staff_id="ghost", now=NOW)
    with pytest.raises(InvalidInput), db.write() as s:
        invites_for_customer(s, SIGNER, member_id="no-such-member", now=NOW)
    assert _events(db) == []
    assert db.raw().execute("SELECT count(*) FROM invite").fetchone()[0] == 0
