"""Store isolation, swept over every endpoint: a counter of store B reads and writes nothing of A."""

from __future__ import annotations

import json
from typing import Any

from hq_harness import Hq, members_in

SECRET_PHONE = "+8613812345678"


def _setup(hq: Hq) -> tuple[Any, Any, str]:
    hq.store("a")
    hq.store("b")
    at_a, at_b = hq.counter("a"), hq.counter("b")
    enrol = at_a.enrol(SECRET_PHONE, name="李雷")
    at_a.sale(member_id=enrol["payload"]["member_id"])
    at_a.push()
    at_b.sale()
    at_b.push()
    at_b.pull()  # from here on B's pulls are changes, which carry HQ's refusals
    return at_a, at_b, enrol["payload"]["member_id"]


def test_every_endpoint_is_scoped_to_the_callers_store(hq: Hq) -> None:
    at_a, at_b, member_a = _setup(hq)
    b = at_b.auth
    checked: set[str] = set()

    def check(op: str, answer: Any, *, status: int | set[int]) -> str:
        checked.add(op)
        allowed = {status} if isinstance(status, int) else status
        assert answer.status_code in allowed, (op, answer.status_code, answer.text)
        assert SECRET_PHONE not in answer.text and "138****5678" not in answer.text, op
        assert member_a not in answer.text, op
        return answer.text

    check("health", hq.client.get("/healthz"), status=200)
    check("getChanges", hq.client.get("/v1/sync/changes", headers=b), status=200)
    forged = at_a.sale()  # an event in A's device's name, sent with B's credential
    check(
        "pushEvents",
        hq.client.post("/v1/sync/push", json={"events": [forged]}, headers=b),
        status=400,
    )
    sneaky = at_b.event("consent.changed", {"member_id": member_a, "choice": {
        "purpose": "marketing", "granted": True,
        "notice": {"notice_id": "p", "version": 1, "language": "zh", "text_hash": "b" * 64}},
        "changed_at": "2026-11-25T00:00:00"})  # fmt: skip
    text = check(
        "pushEvents",
        hq.client.post("/v1/sync/push", json={"events": [sneaky]}, headers=b),
        status=200,
    )
    assert json.loads(text)["acked_through"] == sneaky["seq"]
    assert hq.rows("SELECT count(*) FROM consent WHERE store_id = 'b'")[0][0] == 0
    seen_by_b = at_b.pull()
    assert member_a not in members_in(seen_by_b)
    assert [c["data"]["seq"] for c in seen_by_b if c["kind"] == "event.rejected"] == [sneaky["seq"]]
    check(
        "redeemInvite", hq.client.post("/v1/invites/redeem", json={}, headers=b), status={403, 422}
    )
    check("eraseMember", hq.client.post(f"/v1/members/{member_a}/erase", headers=b), status=403)
    check("getErasure", hq.client.get(f"/v1/members/{member_a}/erasure", headers=b), status=403)
    check(
        "assignGuide",
        hq.client.post(f"/v1/members/{member_a}/guide", json={"guide_id": "b-guide-0"}, headers=b),
        status=403,
    )
    reassign = at_b.event("assignment.requested", {"member_id": member_a, "to_guide_id": "b-guide-0",
                          "manager_id": "b-guide-0", "requested_at": "2026-11-25T00:00:00"})  # fmt: skip
    done = at_b.event("follow_up.completed", {"follow_up_id": f"{member_a}:thank_you:2026-11-25",
        "member_id": member_a, "kind": "thank_you", "anchor_on": "2026-11-25",
        "due_on": "2026-11-26", "channel": "wecom", "outcome": "reached",
        "completed_at": "2026-11-25T00:00:00"})  # fmt: skip
    text = check(
        "pushEvents",
        hq.client.post("/v1/sync/push", json={"events": [reassign, done]}, headers=b),
        status=200,
    )
    assert json.loads(text)["acked_through"] == done["seq"]
    assert sorted(at_b.rejections()) == [reassign["seq"], done["seq"]]
    for op, path in [("getCaptureReport", "capture"), ("getEnrolmentReport", "enrolments"),
                     ("getRungReport", "rungs"), ("getRepurchaseReport", "repurchase"),
                     ("getFollowUpReport", "follow-ups")]:  # fmt: skip
        check(
            op,
            hq.client.get(f"/v1/reports/{path}", params={"store_id": "a"}, headers=b),
            status=403,
        )
        own = check(op, hq.client.get(f"/v1/reports/{path}", headers=b), status=200)
        assert '"a"' not in own
    check("getApplyingStatus", hq.client.get("/v1/status/applying", headers=b), status=403)
    # A whole phone or code finds the brand's member (tests/hq/test_hq_lookup.py); a part
    # of one, never: B cannot list A's customers.
    for part in ({"phone_e164": "5678"}, {"phone_e164": "李"}, {"member_code": "9"}):
        looked = hq.client.post("/v1/members/lookup", json=part, headers=b)
        check("lookUpMember", looked, status=422)
    check("listMemberLookups", hq.client.get("/v1/admin/lookups", headers=b), status=403)
    wecom = {"userid": "someone"}  # a guide's WeCom account is HQ's admin's to set, not a store's
    check("setGuideWeComUserid",
          hq.client.put("/v1/staff/a-guide-0/wecom", json=wecom, headers=b), status=403)  # fmt: skip
    check("markGuideDeparted",
          hq.client.post("/v1/staff/a-guide-0/wecom/departed", headers=b), status=403)  # fmt: skip
    check("getWeComReport",
          hq.client.get("/v1/reports/wecom", params={"store_id": "a"}, headers=b), status=403)  # fmt: skip
    own = check("getWeComReport", hq.client.get("/v1/reports/wecom", headers=b), status=200)
    assert '"a"' not in own
    check(
        "getMemberConsents",
        hq.client.get(f"/v1/members/{member_a}/consents", headers=b),
        status=403,
    )
    check(
        "revokeDevice",
        hq.client.post(f"/v1/devices/{at_a.device_id}/revoke", headers=b),
        status=403,
    )
    check("rotateDeviceSecret", hq.client.post("/v1/devices/rotate", headers=b), status=200)
    check(
        "registerDevice",
        hq.client.post("/v1/devices/register", json={"code": "WRONGCODE1"}),
        status=422,
    )

    spec = hq.client.get("/openapi.json").json()
    every = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    assert every == checked, f"endpoints not swept: {every - checked}"


def test_a_consent_event_about_another_stores_member_does_not_touch_it(hq: Hq) -> None:
    """B learns nothing and changes nothing of A's member, even knowing its id."""
    _, at_b, member_a = _setup(hq)
    before = hq.rows("SELECT count(*) FROM consent WHERE member_id = :m", m=member_a)[0][0]
    sneaky = at_b.event("consent.changed", {"member_id": member_a, "choice": {
        "purpose": "marketing", "granted": True,
        "notice": {"notice_id": "p", "version": 1, "language": "zh", "text_hash": "b" * 64}},
        "changed_at": "2026-11-25T00:00:00"})  # fmt: skip
    at_b.push([sneaky])
    assert list(at_b.rejections()) == [sneaky["seq"]]
    assert hq.rows("SELECT count(*) FROM consent WHERE member_id = :m", m=member_a)[0][0] == before


def test_admin_sees_all_stores_and_partner_cannot_read_reports(hq: Hq) -> None:
    _setup(hq)
    report = hq.client.get("/v1/reports/capture", headers=hq.as_admin()).json()
    assert {s["store_id"] for s in report["by_store"]} == {"a", "b"}
    assert report["capture_rate"] == 0.5
    assert hq.client.get("/v1/reports/capture", headers=hq.as_partner()).status_code == 403
    assert hq.client.get("/v1/sync/changes", headers=hq.as_admin()).status_code == 403
