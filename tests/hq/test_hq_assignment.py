"""Assignments at HQ (admin API and a store manager's request) with WeCom's transfer limit,
and the follow-ups stores complete, kept for reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hq_harness import Hq, members_in, now

from posapp.domain.errors import InvalidInput
from posapp.hq import admin, reports
from posapp.hq.assignment import TransferLimit, assign_guide


def _member(hq: Hq, store: str = "a") -> tuple[Any, str]:
    hq.store(store, staff=3)
    till = hq.counter(store)
    enrolled = till.enrol("+8613812345678", name="李雷")
    till.push()
    till.pull()
    return till, enrolled["payload"]["member_id"]


def _assign(hq: Hq, member: str, guide: str) -> Any:
    return hq.client.post(
        f"/v1/members/{member}/guide", json={"guide_id": guide}, headers=hq.as_admin()
    )


def test_admin_assigns_and_a_third_transfer_in_90_days_is_refused(hq: Hq) -> None:
    till, member = _member(hq)
    first = _assign(hq, member, "a-guide-0")  # a first assignment is not a transfer
    assert first.status_code == 200, first.text
    assert first.json() == {"member_id": member, "guide_id": "a-guide-0", "previous_guide_id": None,
                            "changed": True, "transfers_in_window": 0}  # fmt: skip
    assert members_in(till.pull())[member]["guide_id"] == "a-guide-0"  # flows to the store
    assert _assign(hq, member, "a-guide-0").json()["changed"] is False
    assert _assign(hq, member, "a-guide-1").json()["transfers_in_window"] == 1
    assert _assign(hq, member, "a-guide-2").json()["transfers_in_window"] == 2
    third = _assign(hq, member, "a-guide-0")
    assert third.status_code == 409 and third.json()["error"] == "transfer_limit"
    assert "twice in the last 90 days" in third.json()["message"]
    assert members_in(till.pull())[member]["guide_id"] == "a-guide-2"
    code = members_in(till.pull() or [])  # nothing new after the refusal
    assert code == {}
    assert _assign(hq, "nobody", "a-guide-0").status_code == 404
    assert _assign(hq, member, "no-such-guide").status_code == 422
    as_counter = hq.client.post(
        f"/v1/members/{member}/guide", json={"guide_id": "a-guide-0"}, headers=till.auth
    )
    assert as_counter.status_code == 403


def test_transfers_older_than_90_days_no_longer_count(hq: Hq) -> None:
    _, member = _member(hq)
    start = now() - timedelta(days=200)
    with hq.db.write() as session:
        for day, guide in ((0, "a-guide-0"), (1, "a-guide-1"), (2, "a-guide-2")):
            assign_guide(session, member_id=member, guide_id=guide, requested_by="t",
                         now=start + timedelta(days=day))  # fmt: skip
        with pytest.raises(TransferLimit) as refused:
            assign_guide(session, member_id=member, guide_id="a-guide-0", requested_by="t",
                         now=start + timedelta(days=3))  # fmt: skip
        assert refused.value.allowed_from == start + timedelta(days=91)
        done = assign_guide(session, member_id=member, guide_id="a-guide-0", requested_by="t",
                            now=start + timedelta(days=92))  # fmt: skip
        assert done.changed and done.transfers_in_window == 1


def test_a_store_managers_request_is_applied_or_refused_with_the_reason(hq: Hq) -> None:
    till, member = _member(hq)
    hq.store("b", staff=1)
    with hq.db.write() as session:
        admin.add_staff(session, store_id="a", name="周店长", role="manager", pin="1357",
                        now=now(), staff_id="a-mgr")  # fmt: skip
    request = {"member_id": member, "manager_id": "a-mgr", "requested_at": now().isoformat()}
    till.outbox.clear()
    till.event("assignment.requested", {**request, "to_guide_id": "a-guide-0"})
    till.event("assignment.requested", {**request, "to_guide_id": "a-guide-1"})
    till.event("assignment.requested", {**request, "to_guide_id": "a-guide-2"})
    till.event("assignment.requested", {**request, "to_guide_id": "a-guide-0"})  # third transfer
    till.event("assignment.requested", {**request, "to_guide_id": "b-guide-0"})  # another store's
    till.event("assignment.requested", {**request, "to_guide_id": "a-guide-1",
                                        "manager_id": "a-guide-0"})  # not a manager  # fmt: skip
    assert till.push()["acked_through"] == till.seq  # in HQ's log; applied behind the answer
    changes = till.pull()
    assert members_in(changes)[member]["guide_id"] == "a-guide-2"
    reasons = {  # back to the store
        c["data"]["seq"]: c["data"]["reason"] for c in changes if c["kind"] == "event.rejected"
    }
    assert set(reasons) == {till.seq - 2, till.seq - 1, till.seq}
    assert "twice in the last 90 days" in reasons[till.seq - 2]
    assert "own guides" in reasons[till.seq - 1]
    assert "only a manager" in reasons[till.seq]


def test_completed_follow_ups_are_kept_once_per_store_and_reported(hq: Hq) -> None:
    till, member = _member(hq)
    today = date.today()
    done = {"member_id": member, "kind": "thank_you", "anchor_on": today.isoformat(),
            "due_on": today.isoformat(), "staff_id": "a-guide-0", "channel": "wecom",
            "outcome": "reached", "completed_at": now().isoformat()}  # fmt: skip
    till.outbox.clear()
    till.event("follow_up.completed", {**done, "follow_up_id": f"{member}:thank_you:{today}"})
    till.event("follow_up.completed", {**done, "follow_up_id": f"{member}:thank_you:{today}"})
    till.event("follow_up.completed", {**done, "follow_up_id": f"{member}:care_check:{today}",
                                       "kind": "care_check", "channel": "phone"})  # fmt: skip
    till.event("follow_up.completed", {**done, "follow_up_id": "x:thank_you:2026-01-01",
                                       "member_id": "someone-elses"})  # fmt: skip
    till.event("follow_up.completed", {**done, "follow_up_id": "y", "channel": "fax"})
    till.push()
    assert sorted(till.rejections()) == [till.seq - 3, till.seq - 1, till.seq]
    with hq.db.read() as session:
        report = reports.follow_ups(session, store_id="a", since=now() - timedelta(hours=1),
                                    until=now() + timedelta(hours=1))  # fmt: skip
        assert reports.follow_ups(session, store_id="b", since=now() - timedelta(hours=1),
                                  until=now() + timedelta(hours=1))["total"] == 0  # fmt: skip
    assert report["total"] == 2 and report["by_staff"] == {"a-guide-0": 2}
    assert report["by_channel"] == {"phone": 1, "wecom": 1}
    assert report["by_kind"] == {"care_check": 1, "thank_you": 1}
    api = hq.client.get("/v1/reports/follow-ups", params={"days": 1}, headers=till.auth)
    assert api.status_code == 200 and api.json()["total"] == 2


def test_follow_up_rules_are_checked_before_they_reach_the_stores(hq: Hq) -> None:
    with hq.db.write() as session:
        body = admin.set_rules(session, kind="follow_up", body={"care_check_after_days": 5},
                               now=now())  # fmt: skip
        assert body["care_check_after_days"] == 5 and body["thank_you_after_days"] == 1
        with pytest.raises(InvalidInput):
            admin.set_rules(session, kind="follow_up", body={"win_back_after_days": "soon"},
                            now=now())  # fmt: skip
