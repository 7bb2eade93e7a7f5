"""Transfers follow reassignments: batched, polled through WeCom's 24 h wait, outcomes kept."""

from __future__ import annotations

from sqlalchemy import select
from wecom_harness import GUIDE_A, GUIDE_B, Wired, add_member

from posapp.hq.wecom.contact_ways import guide_departed, set_guide_userid
from posapp.hq.wecom.fake import TRANSFER_DELAY_S, FakeWeCom
from posapp.hq.wecom.links import contact_of, external_hash
from posapp.hq.wecom.models import WeComLink, WeComTransfer
from posapp.hq.wecom.transfers import Move, moves_for_members, poll_transfers, transfer_customers
from posapp.timefmt import utcnow


def _connect(wired: Wired, fake: FakeWeCom, count: int = 1) -> list[str]:
    """``count`` members, each a WeCom contact of guide A through the guide's card."""
    set_guide_userid(wired.db.transaction, wired.gateway, GUIDE_A, "guide.a")
    set_guide_userid(wired.db.transaction, wired.gateway, GUIDE_B, "guide.b")
    members = []
    for n in range(count):
        member_id = f"m-{n:05d}"
        add_member(wired.db, member_id, unionid=f"u-{n}")
        wired.deliver(fake.customer_adds("G11", f"wm-{n}", unionid=f"u-{n}"))
        members.append(member_id)
    fake.welcome_codes.clear()
    while wired.process(limit=1000):
        pass
    return members


def _moves(wired: Wired, members: list[str], to: str = GUIDE_B) -> list[Move]:
    with wired.db.read() as session:
        return moves_for_members(session, [(m, to) for m in members])


def test_an_accepted_transfer_moves_the_link_after_wecoms_24_hours(
    wired: Wired, fake: FakeWeCom
) -> None:
    [member] = _connect(wired, fake)
    [outcome] = transfer_customers(wired.db.transaction, wired.gateway, _moves(wired, [member]))
    assert outcome.status == "waiting"
    assert poll_transfers(wired.db.transaction, wired.gateway) == []
    fake.advance(TRANSFER_DELAY_S)
    [done] = poll_transfers(wired.db.transaction, wired.gateway)
    assert (done.member_id, done.status) == (member, "accepted")
    with wired.db.read() as session:
        link = contact_of(session, member)
    assert link is not None and (link.userid, link.staff_id) == ("guide.b", GUIDE_B)


def test_a_refusing_customer_stays_with_the_old_guide(wired: Wired, fake: FakeWeCom) -> None:
    [member] = _connect(wired, fake)
    transfer_customers(wired.db.transaction, wired.gateway, _moves(wired, [member]))
    fake.customer_answers("wm-0", 3)
    fake.advance(TRANSFER_DELAY_S)
    [done] = poll_transfers(wired.db.transaction, wired.gateway)
    assert done.status == "refused"
    with wired.db.read() as session:
        assert contact_of(session, member).userid == "guide.a"  # type: ignore[union-attr]


def test_a_transfer_fail_callback_reaches_the_transfer(wired: Wired, fake: FakeWeCom) -> None:
    [member] = _connect(wired, fake)
    transfer_customers(wired.db.transaction, wired.gateway, _moves(wired, [member]))
    wired.deliver(fake.callback({"ChangeType": "transfer_fail", "UserID": "guide.b",
                                 "ExternalUserID": "wm-0", "FailReason": "customer_limit_exceed"}))  # fmt: skip
    wired.process()
    with wired.db.read() as session:
        assert session.scalars(select(WeComTransfer.status)).one() == "limit"


def test_the_third_transfer_in_90_days_is_refused_as_the_limit(
    wired: Wired, fake: FakeWeCom
) -> None:
    [member] = _connect(wired, fake)
    for to in (GUIDE_B, GUIDE_A):
        [sent] = transfer_customers(
            wired.db.transaction, wired.gateway, _moves(wired, [member], to)
        )
        assert sent.status == "waiting"
        fake.advance(TRANSFER_DELAY_S)
        assert [o.status for o in poll_transfers(wired.db.transaction, wired.gateway)] == [
            "accepted"
        ]
    [third] = transfer_customers(wired.db.transaction, wired.gateway, _moves(wired, [member]))
    assert (third.status, third.rule) == ("rejected", "transfer_limit")


def test_a_bulk_reassignment_is_batched_100_a_call(wired: Wired, fake: FakeWeCom) -> None:
    _connect(wired, fake, count=0)
    members = [f"m-{n:05d}" for n in range(230)]
    now = utcnow()
    with wired.db.transaction() as session:  # 230 contacts of guide A, as callbacks left them
        for n, member_id in enumerate(members):
            fake.befriend(f"wm-{n}", "guide.a")
            session.add(WeComLink(external_userid=f"wm-{n}", external_hash=external_hash(f"wm-{n}"),
                                  userid="guide.a", staff_id=GUIDE_A, member_id=member_id,
                                  since=now, welcomed=True))  # fmt: skip
    outcomes = transfer_customers(wired.db.transaction, wired.gateway, _moves(wired, members))
    assert [o.status for o in outcomes] == ["waiting"] * 230
    assert fake.count("externalcontact/transfer_customer") == 3


def test_a_departed_guides_customers_go_through_the_resigned_transfer(
    wired: Wired, fake: FakeWeCom
) -> None:
    [member] = _connect(wired, fake)
    with wired.db.transaction() as session:
        guide_departed(session, GUIDE_A)
    moves = _moves(wired, [member])
    assert [m.resigned for m in moves] == [True]
    transfer_customers(wired.db.transaction, wired.gateway, moves)
    fake.advance(TRANSFER_DELAY_S)
    assert [o.status for o in poll_transfers(wired.db.transaction, wired.gateway)] == ["accepted"]
    assert fake.count("externalcontact/resigned/transfer_customer") == 1
    assert fake.count("externalcontact/transfer_customer") == 0


def test_transfers_wecom_could_not_take_are_sent_again_later(wired: Wired, fake: FakeWeCom) -> None:
    [member] = _connect(wired, fake)
    fake.busy(10)
    [outcome] = transfer_customers(wired.db.transaction, wired.gateway, _moves(wired, [member]))
    assert outcome.status == "unsent"
    fake.calm()
    assert [o.status for o in poll_transfers(wired.db.transaction, wired.gateway)] == ["waiting"]
