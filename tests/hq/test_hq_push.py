"""Push semantics: exactly once, in seq order, never wedged by a bad event."""

from __future__ import annotations

import copy

from hq_harness import Hq, members_in


def test_push_stores_each_event_once_and_replays_get_the_same_answer(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    till.sale()
    till.sale()
    first = till.push()
    assert first["acked_through"] == 2 and first["expected_seq"] is None
    again = till.push()  # reply lost: the device sends the same batch again
    assert again["acked_through"] == 2 and again["flagged"] == []
    assert hq.rows("SELECT count(*) FROM event")[0][0] == 2
    assert hq.rows("SELECT count(*) FROM sale")[0][0] == 2


def test_a_gap_answers_the_expected_seq_and_applies_nothing_past_it(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    e1, e2, e3 = till.sale(), till.sale(), till.sale()
    answer = till.push([e1, e3])
    assert answer["acked_through"] == 1 and answer["expected_seq"] == 2
    assert [r[0] for r in hq.rows("SELECT seq FROM event ORDER BY seq")] == [1]
    answer = till.push([e2, e3])
    assert answer["acked_through"] == 3 and answer["expected_seq"] is None


def test_an_invalid_event_is_stored_rejected_acknowledged_and_reported(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    till.cursor = None
    till.pull()
    good = till.sale()
    bad = till.event("sale.recorded", {"purchase_id": "x", "amount_fen": -5})
    alien = till.event("teleport.started", {"to": "mars"})
    after = till.sale()
    answer = till.push([good, bad, alien, after])
    assert answer["acked_through"] == 4
    statuses = hq.rows("SELECT seq, status FROM event ORDER BY seq")
    assert [tuple(r) for r in statuses] == [
        (1, "applied"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "applied"),
    ]
    rejections = [c for c in till.pull() if c["kind"] == "event.rejected"]
    assert {c["data"]["seq"] for c in rejections} == {2, 3}
    assert all(c["data"]["reason"] for c in rejections)


def test_a_replayed_event_id_with_a_different_payload_is_flagged_not_applied(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    sale = till.sale(amount_fen=100)
    till.push()
    forged = copy.deepcopy(sale)
    forged["payload"]["amount_fen"] = 999_999
    answer = till.push([forged])
    assert answer["acked_through"] == 1
    assert [f["event_id"] for f in answer["flagged"]] == [sale["event_id"]]
    assert hq.rows("SELECT amount_fen FROM sale")[0][0] == 100
    assert hq.rows("SELECT count(*) FROM event_conflict")[0][0] == 1


def test_events_must_carry_the_callers_device_id(hq: Hq) -> None:
    hq.store("s1")
    a, b = hq.counter("s1"), hq.counter("s1")
    event = a.sale()
    answer = hq.client.post("/v1/sync/push", json={"events": [event]}, headers=b.auth)
    assert answer.status_code == 400
    assert answer.json()["error"] == "wrong_device"


def test_the_same_phone_enrolled_at_two_offline_stores_becomes_one_member(hq: Hq) -> None:
    hq.store("a")
    hq.store("b")
    at_a, at_b = hq.counter("a"), hq.counter("b")
    first = at_a.enrol("+8613812345678", name="李雷")
    second = at_b.enrol("+8613812345678")
    at_a.sale(member_id=first["payload"]["member_id"], amount_fen=5_000)
    at_b.sale(member_id=second["payload"]["member_id"], amount_fen=7_000)
    at_a.push()
    at_b.push()
    assert hq.rows("SELECT count(*) FROM member")[0][0] == 1
    canonical = first["payload"]["member_id"]
    seen_b = at_b.pull()
    merges = [c for c in seen_b if c["kind"] == "member.merged"]
    assert merges and merges[0]["data"] == {
        "from": second["payload"]["member_id"],
        "into": canonical,
    }
    view_b = members_in(seen_b)[canonical]
    view_a = members_in(at_a.pull())[canonical]
    assert view_a == view_b
    assert view_a["visit_count"] == 2 and view_a["lifetime_spend_fen"] == 12_000
    assert view_a["phone_e164"] == "+8613812345678" and view_a["name"] == "李雷"
    assert second["payload"]["member_code"] in view_a["other_codes"]


def test_a_sale_pushed_before_its_members_enrolment_finds_its_member(hq: Hq) -> None:
    hq.store("s1")
    till_1, till_2 = hq.counter("s1"), hq.counter("s1")
    enrol = till_1.enrol("+8613912345678")
    till_2.sale(member_id=enrol["payload"]["member_id"], amount_fen=3_000)
    till_2.push()  # the member is not known at HQ yet
    till_1.push()
    rows = hq.rows("SELECT member_id FROM sale")
    assert rows[0][0] == enrol["payload"]["member_id"]
    assert hq.rows("SELECT visit_count FROM member")[0][0] == 1


def test_an_event_id_used_again_at_a_new_seq_is_flagged_and_the_rest_of_the_batch_lands(
    hq: Hq,
) -> None:
    hq.store("s1")
    till, other = hq.counter("s1"), hq.counter("s1")
    first = till.sale(amount_fen=100)
    till.push()
    clash = till.sale(amount_fen=200)
    clash["event_id"] = first["event_id"]  # a faulty device hands out an id twice
    fine = till.sale(amount_fen=300)
    twin = till.sale(amount_fen=400)
    twin["event_id"] = fine["event_id"]  # and twice within one batch
    answer = till.push([clash, fine, twin])
    assert answer["acked_through"] == 4
    assert sorted(f["seq"] for f in answer["flagged"]) == [2, 4]
    stolen = other.sale(amount_fen=500)
    stolen["event_id"] = first["event_id"]  # another device's copy of the id
    assert [f["seq"] for f in other.push([stolen])["flagged"]] == [1]
    rows = hq.rows("SELECT device_id, seq, status FROM event ORDER BY device_id, seq")
    mine = [(seq, status) for device, seq, status in rows if device == till.device_id]
    assert mine == [(1, "applied"), (2, "flagged"), (3, "applied"), (4, "flagged")]
    assert sorted(r[0] for r in hq.rows("SELECT amount_fen FROM sale")) == [100, 300]
    assert hq.rows("SELECT count(*) FROM event_conflict")[0][0] == 3
