"""Callbacks end to end against the fake WeCom: stored once, processed behind the answer."""

from __future__ import annotations

from sqlalchemy import select
from wecom_harness import GUIDE_A, GUIDE_B, Wired, add_member, new_invite, redeem

from posapp.hq.wecom.contact_ways import set_guide_userid, sweep_contact_ways
from posapp.hq.wecom.fake import FakeWeCom
from posapp.hq.wecom.links import EndedLink, attach_member, contact_of, erase_member
from posapp.hq.wecom.models import WeComContactWay, WeComInbox, WeComLink
from posapp.timefmt import utcnow


def _links(wired: Wired) -> list[WeComLink]:
    with wired.db.read() as session:
        return list(session.scalars(select(WeComLink).order_by(WeComLink.id)))


def test_a_member_adds_the_guide_through_the_invite_and_is_welcomed_once(
    wired: Wired, fake: FakeWeCom
) -> None:
    token = new_invite(wired.db, member_id="m-1")
    qr = wired.qr(token)
    assert qr and wired.qr(token) == qr  # cached per invite: made once
    assert fake.count("externalcontact/add_contact_way") == 1
    sent = fake.customer_adds(token, "wm-1")
    assert wired.deliver(sent)
    assert not wired.deliver(sent)  # WeCom's retry of the same event
    assert not wired.deliver(fake.callback({"ChangeType": "add_external_contact", "UserID": "guide.a",
                                            "ExternalUserID": "wm-1", "State": token}))  # fmt: skip
    assert wired.process() == 1 and wired.process() == 0
    [link] = _links(wired)
    assert (link.member_id, link.staff_id, link.userid, link.invite_token) == (
        "m-1", GUIDE_A, "guide.a", token,
    )  # fmt: skip
    assert len(fake.welcomes) == 1
    assert (
        fake.welcomes[0]["text"]["content"] == "欢迎光临" and "attachments" not in fake.welcomes[0]
    )
    assert fake.ways == {}  # the invite's contact way is deleted once used
    with wired.db.read() as session:
        assert session.get(WeComContactWay, token).deleted_at is not None  # type: ignore[union-attr]
        assert session.scalars(select(WeComInbox.body)).one() == ""  # the XML is not kept


def test_a_walk_in_added_before_joining_is_pending_then_attached_when_they_join(
    wired: Wired, fake: FakeWeCom
) -> None:
    token = new_invite(wired.db)
    wired.qr(token)
    wired.deliver(fake.customer_adds(token, "wm-2"))
    wired.process()
    [link] = _links(wired)
    assert link.member_id is None  # pending
    [welcome] = fake.welcomes
    assert welcome["attachments"][0]["link"]["url"] == f"https://m.example.cn/j/{token}"
    redeem(wired.db, token, "m-2")  # the customer joins through the same invite
    wired.process()  # catches up even if the join page's call was missed
    assert _links(wired)[0].member_id == "m-2"
    with wired.db.read() as session:
        assert contact_of(session, "m-2") is not None


def test_attach_member_right_after_the_redemption(wired: Wired, fake: FakeWeCom) -> None:
    token = new_invite(wired.db)
    wired.qr(token)
    wired.deliver(fake.customer_adds(token, "wm-3"))
    wired.process()
    add_member(wired.db, "m-3")
    with wired.db.transaction() as session:
        assert attach_member(session, token, "m-3") == 1


def test_a_member_is_found_by_unionid_when_the_state_names_no_member(
    wired: Wired, fake: FakeWeCom
) -> None:
    add_member(wired.db, "m-4", unionid="union-4")
    card = set_guide_userid(wired.db.transaction, wired.gateway, GUIDE_B, "guide.b")
    assert card.qr_code
    wired.deliver(fake.customer_adds("G12", "wm-4", unionid="union-4"))
    wired.process()
    [link] = _links(wired)
    assert (link.member_id, link.staff_id, link.state) == ("m-4", GUIDE_B, "G12")


def test_the_customer_removes_the_guide_then_adds_again(wired: Wired, fake: FakeWeCom) -> None:
    token = new_invite(wired.db, member_id="m-5")
    wired.qr(token)
    wired.deliver(fake.customer_adds(token, "wm-5"))
    wired.process()
    fake.advance(60)
    wired.deliver(fake.customer_removes("guide.a", "wm-5"))
    ended: list[EndedLink] = []
    wired.process(on_link_ended=ended.append)
    assert [(e.member_id, e.staff_id, e.reason) for e in ended] == [("m-5", GUIDE_A, "removed")]
    with wired.db.read() as session:
        assert contact_of(session, "m-5") is None
    fake.advance(60)
    set_guide_userid(wired.db.transaction, wired.gateway, GUIDE_A, "guide.a")
    wired.deliver(fake.customer_adds("G11", "wm-5"))
    wired.process()
    first, again = _links(wired)
    assert first.end_reason == "removed" and again.ended_at is None and again.staff_id == GUIDE_A


def test_a_delete_by_transfer_is_a_transfer_not_a_loss(wired: Wired, fake: FakeWeCom) -> None:
    token = new_invite(wired.db, member_id="m-6")
    wired.qr(token)
    wired.deliver(fake.customer_adds(token, "wm-6"))
    fake.advance(1)
    wired.deliver(fake.callback({"ChangeType": "del_external_contact", "UserID": "guide.a",
                                 "ExternalUserID": "wm-6", "Source": "DELETE_BY_TRANSFER"}))  # fmt: skip
    wired.process()
    assert _links(wired)[0].end_reason == "transferred"


def test_events_for_an_erased_member_are_acknowledged_and_dropped(
    wired: Wired, fake: FakeWeCom
) -> None:
    token = new_invite(wired.db, member_id="m-7")
    wired.qr(token)
    wired.deliver(fake.customer_adds(token, "wm-7"))
    wired.process()
    with wired.db.transaction() as session:
        assert erase_member(session, "m-7", utcnow()) == 1
    [link] = _links(wired)
    assert link.external_userid == "" and link.end_reason == "erased"
    fake.advance(5)
    assert wired.deliver(fake.customer_removes("guide.a", "wm-7"))  # acknowledged
    fake.advance(5)
    assert wired.deliver(fake.customer_adds(token, "wm-7", userid="guide.a"))
    wired.process()
    with wired.db.read() as session:
        assert set(session.scalars(select(WeComInbox.status))) == {"dropped"}
    assert len(_links(wired)) == 1


def test_a_failing_welcome_does_not_fail_the_event(wired: Wired, fake: FakeWeCom) -> None:
    token = new_invite(wired.db, member_id="m-8")
    wired.qr(token)
    sent = fake.customer_adds(token, "wm-8")
    wired.deliver(sent)
    fake.busy(20)  # WeCom busy through every retry
    wired.process()
    with wired.db.read() as session:
        row = session.scalars(select(WeComInbox)).one()
    assert row.status == "done" and "welcome" in (row.note or "")
    assert _links(wired)[0].member_id == "m-8"


def test_the_guides_card_follows_a_new_userid(wired: Wired, fake: FakeWeCom) -> None:
    first = set_guide_userid(wired.db.transaction, wired.gateway, GUIDE_A, "guide.a")
    same = set_guide_userid(wired.db.transaction, wired.gateway, GUIDE_A, "guide.a")
    moved = set_guide_userid(wired.db.transaction, wired.gateway, GUIDE_A, "guide.a2")
    assert first.qr_code == same.qr_code != moved.qr_code
    [way] = fake.ways.values()
    assert way["user"] == ["guide.a2"] and way["state"] == "G11"


def test_contact_ways_are_capped_swept_and_orphans_removed(wired: Wired, fake: FakeWeCom) -> None:
    fake.max_contact_ways = 2
    used, expired = new_invite(wired.db, member_id="m-9"), new_invite(wired.db)
    assert wired.qr(used) and wired.qr(expired)
    assert wired.qr(new_invite(wired.db)) is None  # WeCom full: no QR, nothing raised
    fake.max_contact_ways = 10
    wired.gateway.add_contact_way("guide.a", "lost")  # made, but its record never committed
    fake.busy(20)
    wired.deliver(fake.customer_adds(used, "wm-9"))
    wired.process()  # WeCom busy: the used way's deletion is left to the sweep
    fake.calm()
    assert len(fake.ways) == 3
    with wired.db.transaction() as session:
        session.get(WeComContactWay, expired).expires_at = utcnow()  # type: ignore[union-attr]
    swept = sweep_contact_ways(wired.db.transaction, wired.gateway)
    assert (swept.deleted, swept.orphans, swept.left) == (2, 1, 0)
    assert fake.ways == {}


def test_processed_events_are_forgotten_after_the_window(wired: Wired, fake: FakeWeCom) -> None:
    from datetime import timedelta

    from posapp.hq.wecom.callbacks import forget_processed

    wired.deliver(fake.customer_removes("guide.a", "wm-10"))
    with wired.db.transaction() as session:
        assert forget_processed(session, utcnow() + timedelta(days=1)) == 0  # not processed yet
    wired.process()
    with wired.db.transaction() as session:
        assert forget_processed(session, utcnow() - timedelta(days=30)) == 0
        assert forget_processed(session, utcnow() + timedelta(days=1)) == 1
