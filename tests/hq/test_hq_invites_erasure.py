"""Redeeming invites, and erasure reaching every store."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hq_harness import NOTICE, Hq, members_in, now

from posapp.domain import invite as invites
from posapp.domain.ladder import Channel
from posapp.domain.member_code import new_member_code

CONSENT = [{"purpose": "membership", "granted": True, "notice": NOTICE}]


def _token(
    till: Any,
    *,
    day: date | None = None,
    staff_no: int = 1,
    referrer: str | None = None,
    key: bytes | None = None,
) -> str:
    invite = invites.Invite(
        Channel.MINI_PROGRAM,
        till.store_no,
        day or now().date(),
        device_no=1,
        staff_no=0 if referrer else staff_no,
        serial=till.seq + 1,
        referrer_code=referrer,
    )
    return invites.issue(invite, key or till.invite_key)


def _redeem(
    hq: Hq, token: str, phone: str = "+8613812345678", consents: list[Any] | None = None
) -> Any:
    return hq.client.post(
        "/v1/invites/redeem",
        json={
            "token": token,
            "phone": phone,
            "consents": consents or CONSENT,
            "wechat_openid": "o-abc",
        },
        headers=hq.as_partner(),
    )


def test_an_offline_issued_invite_redeems_once_with_store_guide_and_sale_credit(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    till.pull()  # the store's first snapshot: from here on it reads HQ's change log
    sale = till.sale(amount_fen=8_800)
    token = _token(till)  # made offline: HQ has heard nothing about it yet
    first = _redeem(hq, token)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["created"] and body["store_id"] == "s1" and body["guide_id"] == "s1-guide-0"
    assert _redeem(hq, token).json() == body  # a retry: the first answer again
    used = _redeem(hq, token, phone="+8613900000000")  # someone else: refused, nothing leaks
    assert used.status_code == 422 and used.json()["error"] == "token.used"
    assert body["member_code"] not in used.text
    assert hq.rows("SELECT count(*) FROM member")[0][0] == 1
    # The store reports the invite and the sale afterwards: HQ credits the sale then.
    till.event("invite.issued", {"token": token, "channel": "mini_program", "staff_id": "s1-guide-0",
                                 "purchase_id": sale["payload"]["purchase_id"], "issued_at": now().isoformat()})  # fmt: skip
    till.push()
    assert hq.rows("SELECT member_id FROM sale")[0][0] == body["member_id"]
    changes = till.pull()
    view = members_in(changes)[body["member_id"]]
    assert view["visit_count"] == 1 and view["lifetime_spend_fen"] == 8_800
    # The store hears whose its sale is now, after it has heard of the member.
    kinds = [(c["kind"], c["key"]) for c in changes]
    link = ("sale.member", sale["payload"]["purchase_id"])
    assert link in kinds and kinds.index(link) > kinds.index(("member", body["member_id"]))
    assert next(c for c in changes if c["kind"] == "sale.member")["data"] == {
        "member_id": body["member_id"]
    }


def test_forged_expired_and_foreign_tokens_are_refused(hq: Hq) -> None:
    hq.store("s1")
    hq.store("s2")
    till, other = hq.counter("s1"), hq.counter("s2")
    forged = _token(till, key=b"not the store's key")
    expired = _token(till, day=now().date() - timedelta(days=8))
    # s2's key signing a token that claims to be s1's: the MAC cannot match s1's key.
    foreign = invites.issue(
        invites.Invite(Channel.MINI_PROGRAM, till.store_no, now().date(), device_no=1, staff_no=1),
        other.invite_key,
    )
    for token, error in [(forged, "token.bad_mac"), (expired, "token.expired"), (foreign, "token.bad_mac"),
                         ("short", "token.wrong_length"), ("x" * 30, "token.bad_alphabet")]:  # fmt: skip
        answer = _redeem(hq, token)
        assert answer.status_code == 422, token
        assert answer.json()["error"] == error
    assert hq.rows("SELECT count(*) FROM member")[0][0] == 0


def test_membership_consent_is_required_and_optional_ones_may_be_declined(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    declined = [{"purpose": "membership", "granted": False, "notice": NOTICE}]
    assert (
        _redeem(hq, _token(till), consents=declined).json()["error"]
        == "consent.membership_required"
    )
    optional_no = [*CONSENT, {"purpose": "marketing", "granted": False, "notice": NOTICE}]
    assert _redeem(hq, _token(till, staff_no=1), consents=optional_no).status_code == 200


def test_a_referral_credits_the_referrer(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    referrer = till.enrol("+8613700000001")
    till.push()
    code = referrer["payload"]["member_code"]
    joined = _redeem(hq, _token(till, referrer=code), phone="+8613700000002").json()
    assert joined["referred_by"] == referrer["payload"]["member_id"]
    views = members_in(till.pull())
    assert views[referrer["payload"]["member_id"]]["referrals"] == 1
    # A code nobody holds credits nobody, but the customer still joins.
    stray = _redeem(hq, _token(till, referrer=new_member_code()), phone="+8613700000003").json()
    assert stray["referred_by"] is None


def test_erasure_reaches_both_stores_and_blocks_stale_recreation(hq: Hq) -> None:
    hq.store("a")
    hq.store("b")
    at_a, at_b = hq.counter("a"), hq.counter("b")
    enrol_a = at_a.enrol("+8613812345678", name="李雷")
    stale = at_b.enrol("+8613812345678", name="李雷")  # made offline, before the erasure
    at_a.sale(member_id=enrol_a["payload"]["member_id"], amount_fen=1_000)
    at_a.push()
    at_b.push([stale])
    at_a.pull(), at_b.pull()
    member_id = enrol_a["payload"]["member_id"]
    answer = hq.client.post(f"/v1/members/{member_id}/erase", headers=hq.as_admin())
    assert answer.status_code == 200 and answer.json()["stores"] == ["a", "b"]
    for till in (at_a, at_b):
        erased = [c for c in till.pull() if c["kind"] == "member.erased"]
        assert [c["key"] for c in erased] == [member_id]
    row = hq.rows("SELECT phone_e164, name, erased_at FROM member WHERE id = :m", m=member_id)[0]
    assert row[0] is None and row[1] is None and row[2] is not None
    assert hq.rows("SELECT count(*) FROM consent WHERE member_id = :m", m=member_id)[0][0] == 0
    assert hq.rows("SELECT count(*) FROM sale")[0][0] == 1  # the anonymous fact stays
    # A store that was offline replays an enrolment made before the erasure: refused.
    late = at_b.enrol("+8613812345678", name="李雷")
    late["payload"]["enrolled_at"] = stale["payload"]["enrolled_at"]
    at_b.push([late])
    assert list(at_b.rejections()) == [late["seq"]]
    assert hq.rows("SELECT count(*) FROM member WHERE phone_e164 IS NOT NULL")[0][0] == 0
    # Stores confirm; HQ records which have applied it.
    for till in (at_a, at_b):
        till.event("erasure.applied", {"member_id": member_id})
        till.push(till.outbox[-1:])
    status = hq.client.get(f"/v1/members/{member_id}/erasure", headers=hq.as_admin()).json()
    assert set(status["stores"]) == {"a", "b"} and all(status["stores"].values())
    # Re-joining later with fresh consent is a new, legitimate membership.
    rejoin = at_a.enrol("+8613812345678")
    at_a.push(at_a.outbox[-1:])
    assert (
        hq.rows("SELECT id FROM member WHERE phone_e164 IS NOT NULL")[0][0]
        == rejoin["payload"]["member_id"]
    )
