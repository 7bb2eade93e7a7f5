"""A sale recorded offline at store B with store A's member code (``member_code_ref``,
sale.recorded version 2): HQ credits it to that member, sends the member down to B, and counts
it as a known customer's; an unknown, erased or invalid code stays anonymous, and says why."""

from __future__ import annotations

from typing import Any

from hq_harness import Counter, Hq, members_in

from posapp.domain.ids import new_id
from posapp.domain.member_code import new_member_code
from posapp.hq.applier import ANONYMOUS_INVALID_CODE, ANONYMOUS_UNKNOWN_CODE

PHONE = "+8613812345678"


def _reference_sale(till: Counter, code: str, *, amount_fen: int = 12_300) -> dict[str, Any]:
    """What a counter writes for a scanned code nobody there holds."""
    event = till.sale(amount_fen=amount_fen)
    event["schema_version"] = 2
    event["payload"] = {**event["payload"], "member_id": None, "member_code_ref": code}
    return event


def _two_stores(hq: Hq) -> tuple[Counter, Counter]:
    hq.store("a")
    hq.store("b")
    a, b = hq.counter("a"), hq.counter("b")
    a.pull()
    b.pull()
    return a, b


def _enrolled_at_a(hq: Hq, a: Counter) -> tuple[str, str]:
    """``(member_id, member_code)`` of a member who joined at A, synced to HQ."""
    enrolment = a.enrol(PHONE, name="王芳")
    a.push()
    hq.applied()
    return enrolment["payload"]["member_id"], enrolment["payload"]["member_code"]


def _event(hq: Hq, event: dict[str, Any]) -> tuple[str, str | None]:
    return tuple(
        hq.rows("SELECT status, reason FROM event WHERE event_id = :e", e=event["event_id"])[0]
    )


def test_a_code_of_store_a_at_store_b_credits_a_and_sends_the_member_to_b(hq: Hq) -> None:
    a, b = _two_stores(hq)
    member_id, code = _enrolled_at_a(hq, a)
    sale = _reference_sale(b, code)
    b.push()
    assert _event(hq, sale) == ("applied", None)
    assert hq.rows(
        "SELECT store_id, member_id, amount_fen FROM sale WHERE purchase_id = :p",
        p=sale["payload"]["purchase_id"],
    ) == [("b", member_id, 12_300)]
    assert hq.rows(
        "SELECT visit_count, lifetime_spend_fen FROM member WHERE id = :m", m=member_id
    ) == [(1, 12_300)]
    holders = hq.rows("SELECT store_id FROM member_store WHERE member_id = :m", m=member_id)
    assert sorted(r[0] for r in holders) == ["a", "b"]
    report = hq.client.get("/v1/reports/capture", headers=hq.as_admin()).json()
    by_store = {r["store_id"]: r for r in report["by_store"]}
    assert (by_store["b"]["sales"], by_store["b"]["known"]) == (1, 1)

    changes = b.pull()
    assert members_in(changes)[member_id]["visit_count"] == 1  # the rung and totals, at B too
    credited = [c for c in changes if c["kind"] == "sale.member"]
    assert [(c["key"], c["data"]["member_id"]) for c in credited] == [
        (sale["payload"]["purchase_id"], member_id)
    ]
    kinds = [c["kind"] for c in changes]
    assert kinds.index("member") < kinds.index("sale.member")  # B knows them before the link
    assert members_in(a.pull())[member_id]["visit_count"] == 1  # and A hears of the visit


def test_an_unknown_erased_or_invalid_code_stays_anonymous_with_the_reason(hq: Hq) -> None:
    a, b = _two_stores(hq)
    erased_id, erased_code = _enrolled_at_a(hq, a)
    answer = hq.client.post(f"/v1/members/{erased_id}/erase", headers=hq.as_admin())
    assert answer.status_code == 200, answer.text
    unknown = _reference_sale(b, new_member_code())
    erased = _reference_sale(b, erased_code)
    invalid = _reference_sale(b, "9000000000000")  # the shape of a code, a wrong check digit
    b.push()
    for event, reason in (
        (unknown, ANONYMOUS_UNKNOWN_CODE),
        (erased, ANONYMOUS_UNKNOWN_CODE),
        (invalid, ANONYMOUS_INVALID_CODE),
    ):
        assert _event(hq, event) == ("applied", reason)
        assert hq.rows(
            "SELECT member_id FROM sale WHERE purchase_id = :p", p=event["payload"]["purchase_id"]
        ) == [(None,)]
    assert hq.rows("SELECT count(*) FROM member_store WHERE store_id = 'b'") == [(0,)]
    report = hq.client.get("/v1/reports/capture?store=b", headers=hq.as_admin()).json()
    assert (report["sales"], report["known"]) == (3, 0)
    assert not [c for c in b.pull() if c["kind"] in ("member", "sale.member")]


def test_a_reference_needs_version_2_and_never_comes_with_a_member_id(hq: Hq) -> None:
    a, b = _two_stores(hq)
    member_id, code = _enrolled_at_a(hq, a)
    old = _reference_sale(b, code)
    old["schema_version"] = 1
    both = _reference_sale(b, code)
    both["payload"]["member_id"] = new_id()
    future = b.sale()
    future["schema_version"] = 3
    b.push()
    assert _event(hq, old) == ("rejected", "invalid payload: needs schema_version 2")
    assert _event(hq, both)[0] == "rejected" and "not both" in (_event(hq, both)[1] or "")
    assert _event(hq, future) == ("rejected", "unknown schema_version 3")
    assert hq.rows("SELECT visit_count FROM member WHERE id = :m", m=member_id) == [(0,)]
    assert set(b.rejections()) == {old["seq"], both["seq"], future["seq"]}


def test_a_reference_reaching_hq_before_the_members_enrolment_is_credited_when_it_arrives(
    hq: Hq,
) -> None:
    """A and B both offline: B's sale names the code of a member A enrolled but has not yet
    pushed; HQ keeps the code on the sale and credits it when A's enrolment arrives."""
    a, b = _two_stores(hq)
    enrolment = a.enrol(PHONE, name="王芳")
    member_id, code = enrolment["payload"]["member_id"], enrolment["payload"]["member_code"]
    sale = _reference_sale(b, code, amount_fen=5_000)
    b.push()
    assert _event(hq, sale) == ("applied", ANONYMOUS_UNKNOWN_CODE)
    purchase_id = sale["payload"]["purchase_id"]
    assert hq.rows(
        "SELECT member_id, member_code_ref FROM sale WHERE purchase_id = :p", p=purchase_id
    ) == [(None, code)]
    a.push()
    hq.applied()
    assert hq.rows(
        "SELECT member_id, member_code_ref FROM sale WHERE purchase_id = :p", p=purchase_id
    ) == [(member_id, None)]
    assert hq.rows(
        "SELECT visit_count, lifetime_spend_fen FROM member WHERE id = :m", m=member_id
    ) == [(1, 5_000)]
    holders = hq.rows("SELECT store_id FROM member_store WHERE member_id = :m", m=member_id)
    assert sorted(r[0] for r in holders) == ["a", "b"]
    changes = b.pull()
    assert members_in(changes)[member_id]["visit_count"] == 1
    assert [(c["key"], c["data"]["member_id"]) for c in changes if c["kind"] == "sale.member"] == [
        (purchase_id, member_id)
    ]


def test_an_erasure_leaves_the_code_in_no_sale_fact_nor_waiting_sale(hq: Hq) -> None:
    a, b = _two_stores(hq)
    member_id, code = _enrolled_at_a(hq, a)
    credited = _reference_sale(b, code)
    b.push()
    hq.applied()
    answer = hq.client.post(f"/v1/members/{member_id}/erase", headers=hq.as_admin())
    assert answer.status_code == 200, answer.text
    assert hq.rows("SELECT count(*) FROM event WHERE payload LIKE :c", c=f"%{code}%") == [(0,)]
    assert hq.rows("SELECT count(*) FROM sale WHERE member_code_ref = :c", c=code) == [(0,)]
    assert hq.rows(
        "SELECT member_id FROM sale WHERE purchase_id = :p", p=credited["payload"]["purchase_id"]
    ) == [(member_id,)]  # the sale stays, credited to an anonymous id
