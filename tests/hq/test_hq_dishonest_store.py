"""The dishonest store: a counter of store A, with a valid credential, reports facts that name
store B's members, staff, guides, invites, sales and codes. Against a real HQ process (SQLite
and PostgreSQL), every such fact is refused with its reason, the reason reaches A, and B's
rows and B's feed are as they were. A revoked till is shut out; its earlier facts stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hq_harness import NOTICE, Counter, now
from live_hq import LiveHq, live_hq
from sync_world import registered_counter

from posapp.domain import invite as invites
from posapp.domain.ids import new_id
from posapp.domain.ladder import Channel
from posapp.domain.member_code import new_member_code
from posapp.hq import admin
from posapp.store.db import Database
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for

B_PHONE = (
    "+8613900001111"  # B's customer, whom A enrols too (a phone known is not a customer taken)
)
B_ONLY_PHONE = "+8613900002222"  # B's customer A never meets
B_UNGUIDED = "+8613900003333"  # B's customer without a guide


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveHq]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hq.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    with live_hq(url, tmp_path / "hq") as hq:
        yield hq


def _staff(hq: LiveHq, store: str) -> None:
    with hq.db.write() as session:
        admin.add_store(session, store_id=store, name=f"门店 {store}", now=now())
        for role in ("guide", "manager", "cashier"):
            admin.add_staff(session, store_id=store, name=f"{role}{store}", role=role,
                            pin="1234", now=now(), staff_id=f"{store}-{role}")  # fmt: skip


def _staff_no(hq: LiveHq, staff_id: str) -> int:
    return int(hq.rows("SELECT staff_no FROM staff WHERE id = :s", s=staff_id)[0][0])


def _token(till: Counter, *, staff_no: int = 0, serial: int = 1, referrer: str | None = None,
           store_no: int | None = None) -> str:  # fmt: skip
    day = now().date()
    number = till.store_no if store_no is None else store_no
    if referrer is not None:
        invite = invites.Invite(Channel.MINI_PROGRAM, number, day, referrer_code=referrer)
    else:
        invite = invites.Invite(Channel.MINI_PROGRAM, number, day, device_no=1,
                                staff_no=staff_no, serial=serial)  # fmt: skip
    return invites.issue(invite, till.invite_key)


def _enrol(till: Counter, phone: str, **extra: Any) -> dict[str, Any]:
    payload = {"member_id": new_id(), "member_code": new_member_code(), "phone_e164": phone,
               "name": "顾客", "consents": [{"purpose": "membership", "granted": True,
                                             "notice": NOTICE}],
               "enrolled_at": now().isoformat(), **extra}  # fmt: skip
    return till.event("member.enrolled", payload)


def _sale(till: Counter, **extra: Any) -> dict[str, Any]:
    payload = {"purchase_id": new_id(), "receipt_no": f"R{till.seq + 1}", "amount_fen": 8800,
               "currency": "CNY", "occurred_at": now().isoformat(), **extra}  # fmt: skip
    return till.event("sale.recorded", payload)


def _invite(till: Counter, token: str, **extra: Any) -> dict[str, Any]:
    payload = {"token": token, "channel": "mini_program", "issued_at": now().isoformat(), **extra}
    return till.event("invite.issued", payload)


def _b_state(hq: LiveHq) -> dict[str, list[Any]]:
    """Everything HQ holds of store B and B's customers."""
    queries = {
        "members": "SELECT m.id, m.member_code, m.phone_e164, m.name, m.guide_id, m.rung,"
        " m.visit_count, m.lifetime_spend_fen, m.referrals, m.erased_at FROM member m"
        " WHERE m.home_store_id = 'b' ORDER BY m.id",
        "aliases": "SELECT local_id, member_id, member_code FROM member_alias"
        " WHERE store_id = 'b' ORDER BY local_id",
        "codes": "SELECT member_code, member_id FROM member_alias WHERE member_code <> ''"
        " ORDER BY member_code",
        "sales": "SELECT purchase_id, member_id, staff_id, amount_fen FROM sale"
        " WHERE store_id = 'b' ORDER BY purchase_id",
        "invites": "SELECT token, store_id, staff_id, purchase_id FROM invite ORDER BY token",
        "assignments": "SELECT member_id, from_guide_id, to_guide_id, store_id FROM assignment"
        " ORDER BY id",
        "consents": "SELECT member_id, purpose, granted, store_id, staff_id FROM consent"
        " WHERE member_id IN (SELECT id FROM member WHERE home_store_id = 'b') ORDER BY id",
        "follow_ups": "SELECT store_id, follow_up_id, staff_id FROM follow_up_done ORDER BY 1, 2",
        "erasure_acks": "SELECT member_id, store_id FROM erasure_ack ORDER BY 1, 2",
    }
    return {name: [tuple(r) for r in hq.rows(sql)] for name, sql in queries.items()}


def _counter_state(db: Database) -> dict[str, list[Any]]:
    raw = db.raw()
    return {
        "members": raw.execute(
            "SELECT id, member_code, phone_e164, name, guide_id, erased_at FROM member ORDER BY id"
        ).fetchall(),
        "consents": raw.execute(
            "SELECT member_id, purpose, granted FROM consent_record ORDER BY 1, 2, 3"
        ).fetchall(),
        "staff": raw.execute("SELECT id, store_id FROM staff ORDER BY id").fetchall(),
    }


def test_every_fact_naming_another_stores_things_is_refused_and_changes_nothing_of_it(
    live: LiveHq,
) -> None:
    hq = live
    _staff(hq, "a")
    _staff(hq, "b")
    at_a, at_b = hq.counter("a"), hq.counter("b")
    at_a.pull()
    at_b.pull()

    # Store B's own world: three customers, a walk-in sale, an invite printed on its receipt.
    b_member = _enrol(at_b, B_PHONE, guide_id="b-guide", staff_id="b-cashier")["payload"]
    b_only = _enrol(at_b, B_ONLY_PHONE, guide_id="b-guide")["payload"]
    unguided = _enrol(at_b, B_UNGUIDED)["payload"]
    _sale(at_b, member_id=b_member["member_id"], staff_id="b-cashier")
    walk_in = _sale(at_b, staff_id="b-cashier")["payload"]
    b_token = _token(at_b, staff_no=_staff_no(hq, "b-guide"))
    at_b.push()
    at_b.pull()

    # What is right: A meets B's customer, enrols the phone (a merge, A becomes a holder) with
    # the customer's consent recorded at A; and A may guide B's customer who has no guide.
    merged = _enrol(at_a, B_PHONE, guide_id="a-guide", staff_id="a-cashier",
                    consents=[{"purpose": "membership", "granted": True, "notice": NOTICE},
                              {"purpose": "marketing", "granted": True, "notice": NOTICE}])  # fmt: skip
    adopt = _enrol(at_a, B_UNGUIDED, guide_id="a-guide")
    at_a.push()
    at_a.pull()
    (b_guide,) = hq.rows("SELECT guide_id FROM member WHERE id = :m", m=b_member["member_id"])[0]
    assert b_guide == "b-guide"  # the merge did not touch B's guide
    assert hq.rows("SELECT guide_id FROM member WHERE id = :m", m=unguided["member_id"])[0][0] == (
        "a-guide"
    )
    assert hq.rows(
        "SELECT from_guide_id, to_guide_id, store_id FROM assignment WHERE member_id = :m",
        m=unguided["member_id"],
    ) == [(None, "a-guide", "a")]  # a guide is set only through an assignment
    history = hq.rows(
        "SELECT purpose, granted, store_id, staff_id FROM consent WHERE member_id = :m ORDER BY id",
        m=b_member["member_id"],
    )
    assert [tuple(r) for r in history] == [
        ("membership", True, "b", "b-cashier"),
        ("membership", True, "a", "a-cashier"),
        ("marketing", True, "a", "a-cashier"),
    ]  # the history shows which store (and who) recorded what
    answer = hq.client.get(f"/v1/members/{b_member['member_id']}/consents", headers=hq.as_admin())
    assert answer.status_code == 200, answer.text
    assert [(c["purpose"], c["store_id"], c["staff_id"]) for c in answer.json()["consents"]] == [
        ("membership", "b", "b-cashier"),
        ("membership", "a", "a-cashier"),
        ("marketing", "a", "a-cashier"),
    ]
    assert merged["payload"]["member_id"] != b_member["member_id"] and adopt

    # B's real counter (the store's database and sync engine) holds B's customers.
    b_till = registered_counter(hq.data / "till-b", base=hq.base, hq_db=hq.db, store="b")
    b_engine = SyncEngine(b_till, client_for(b_till, hq.data / "till-b"))
    b_engine.run_once()
    b_counter_before = _counter_state(b_till)
    assert B_PHONE in str(b_counter_before["members"])

    b_code = hq.rows("SELECT member_code FROM member WHERE id = :m", m=b_only["member_id"])[0][0]
    a_member = merged["payload"]["member_id"]  # A's alias of B's customer: A may name it
    erased_b = _enrol(at_b, "+8613900004444")["payload"]
    at_b.push()
    hq.applied()
    erase = hq.client.post(f"/v1/members/{erased_b['member_id']}/erase", headers=hq.as_admin())
    assert erase.status_code == 200, erase.text
    at_b.pull()

    a_own_member = _enrol(at_a, "+8613800005555")["payload"]["member_id"]
    at_a.push()
    at_a.pull()
    at_a.outbox.clear()
    before = _b_state(hq)

    reassign = {"to_guide_id": "a-guide", "manager_id": "a-manager",
                "requested_at": now().isoformat()}  # fmt: skip
    fact = {"follow_up_id": f"{a_member}:thank_you:{date.today()}", "kind": "thank_you",
            "anchor_on": date.today().isoformat(), "due_on": date.today().isoformat(),
            "channel": "wecom", "outcome": "reached", "completed_at": now().isoformat()}  # fmt: skip
    choice = {"purpose": "marketing", "granted": True, "notice": NOTICE}
    expected: dict[int, str] = {}

    def dishonest(event: dict[str, Any], reason: str) -> None:
        expected[event["seq"]] = reason

    # assignment.requested: B's guided customer, whom A holds since the merge
    dishonest(at_a.event("assignment.requested", {"member_id": a_member, **reassign}),
              "guide belongs to another store")  # fmt: skip
    # assignment.requested: A's own customer, to B's guide
    dishonest(at_a.event("assignment.requested", {**reassign, "member_id": a_own_member,
                                                  "to_guide_id": "b-guide"}),
              "only name its own guides")  # fmt: skip
    # assignment.requested: in the name of B's manager
    dishonest(at_a.event("assignment.requested", {**reassign, "member_id": a_own_member,
                                                  "manager_id": "b-manager"}),
              "only a manager of this store")  # fmt: skip
    # invite.issued: B's token, from B's receipt, reported by A first
    dishonest(_invite(at_a, b_token), "not this store's")
    # invite.issued: a token claiming B's store number, signed with A's key
    dishonest(_invite(at_a, _token(at_a, store_no=at_b.store_no, serial=7)), "not this store's")
    # invite.issued: A's own token, naming B's walk-in sale, B's staff, B's member
    dishonest(_invite(at_a, _token(at_a, serial=2), purchase_id=walk_in["purchase_id"]),
              "sale named belongs to another store")  # fmt: skip
    dishonest(_invite(at_a, _token(at_a, serial=3), staff_id="b-guide"), "not staff of this store")
    dishonest(_invite(at_a, _token(at_a, serial=4), member_id=b_only["member_id"]),
              "member of another store")  # fmt: skip
    # invite.issued: a referral QR crediting B's customer A never met
    dishonest(_invite(at_a, _token(at_a, referrer=b_code), referral=True),
              "does not hold")  # fmt: skip
    # sale.recorded: B's staff, B's customer, B's purchase id
    dishonest(_sale(at_a, staff_id="b-cashier"), "not staff of this store")
    dishonest(_sale(at_a, guide_id="b-guide"), "not staff of this store")  # the serving guide
    dishonest(_sale(at_a, member_id=b_only["member_id"]), "member of another store")
    dishonest(_sale(at_a, purchase_id=walk_in["purchase_id"]), "already recorded")
    # sale.linked: B's walk-in sale to A's customer
    dishonest(at_a.event("sale.linked", {"purchase_id": walk_in["purchase_id"],
                                         "member_id": a_own_member}),
              "no such sale from this store")  # fmt: skip
    # member.enrolled: B's guide, B's staff, B's member code, B's member id, B's walk-in sale
    dishonest(_enrol(at_a, "+8613800006661", guide_id="b-guide"), "not staff of this store")
    dishonest(_enrol(at_a, "+8613800006662", staff_id="b-cashier"), "not staff of this store")
    dishonest(_enrol(at_a, "+8613800006663", member_code=b_code), "already names another member")
    dishonest(_enrol(at_a, "+8613800006664", member_id=b_only["member_id"]),
              "another store's member")  # fmt: skip
    dishonest(_enrol(at_a, "+8613800006665", purchase_id=walk_in["purchase_id"]),
              "sale named belongs to another store")  # fmt: skip
    # consent.changed: B's customer A never met; A's alias recorded by B's staff
    dishonest(at_a.event("consent.changed", {"member_id": b_only["member_id"], "choice": choice,
                                             "changed_at": now().isoformat()}),
              "does not know")  # fmt: skip
    dishonest(at_a.event("consent.changed", {"member_id": a_member, "choice": choice,
                                             "staff_id": "b-guide",
                                             "changed_at": now().isoformat()}),
              "not staff of this store")  # fmt: skip
    # follow_up.completed: by B's guide; for B's customer A never met
    dishonest(at_a.event("follow_up.completed", {**fact, "member_id": a_member,
                                                 "staff_id": "b-guide"}),
              "not staff of this store")  # fmt: skip
    dishonest(at_a.event("follow_up.completed", {**fact, "member_id": b_only["member_id"],
                                                 "follow_up_id": "x:thank_you:2026-12-01"}),
              "does not know")  # fmt: skip
    # erasure.applied: for B's erased customer, whom A never held
    dishonest(at_a.event("erasure.applied", {"member_id": erased_b["member_id"]}),
              "does not hold")  # fmt: skip

    kinds = {e["type"] for e in at_a.outbox}
    assert kinds == {
        "sale.recorded",
        "member.enrolled",
        "consent.changed",
        "sale.linked",
        "erasure.applied",
        "invite.issued",
        "follow_up.completed",
        "assignment.requested",
    }  # fmt: skip  (every event type)
    answer = at_a.push()
    assert answer["acked_through"] == at_a.seq and answer["flagged"] == []
    refused = at_a.rejections()
    assert set(refused) == set(expected), (refused, expected)
    for seq, reason in expected.items():
        assert reason in refused[seq], (seq, refused[seq], reason)
    statuses = hq.rows("SELECT seq, status FROM event WHERE device_id = :d AND seq >= :s",
                       d=at_a.device_id, s=min(expected))  # fmt: skip
    assert {tuple(r) for r in statuses} == {(s, "rejected") for s in expected}

    # A referral QR A signs for B's customer: the friend joins, B's customer is not credited.
    friend = hq.client.post("/v1/invites/redeem", headers=hq.as_partner(), json={
        "token": _token(at_a, referrer=b_code), "phone": "13800009999",
        "consents": [{"purpose": "membership", "granted": True, "notice": NOTICE}]})  # fmt: skip
    assert friend.status_code == 200 and friend.json()["referred_by"] is None, friend.text

    assert _b_state(hq) == before  # B's rows
    assert at_b.pull() == []  # B's feed: nothing of A's attempts reaches B's counter
    b_engine.run_once()
    assert _counter_state(b_till) == b_counter_before  # and B's counter after sync
    b_till.close()
    log = hq.log_text()
    assert "Traceback" not in log and B_PHONE[3:] not in log and "顾客" not in log

    # B's own invite is still B's to report, and its sale is credited to whoever redeems it.
    _invite(at_b, b_token, purchase_id=walk_in["purchase_id"], staff_id="b-guide")
    at_b.push([at_b.outbox[-1]])
    assert at_b.rejections() == {}
    redeemed = hq.client.post("/v1/invites/redeem", headers=hq.as_partner(), json={
        "token": b_token, "phone": "13900007777",
        "consents": [{"purpose": "membership", "granted": True, "notice": NOTICE}]})  # fmt: skip
    assert redeemed.status_code == 200, redeemed.text
    credited = hq.rows("SELECT member_id, store_id FROM sale WHERE purchase_id = :p",
                       p=walk_in["purchase_id"])  # fmt: skip
    assert tuple(credited[0]) == (redeemed.json()["member_id"], "b")
    assert [tuple(r) for r in hq.rows(
        "SELECT from_guide_id, to_guide_id, source, store_id FROM assignment WHERE member_id = :m",
        m=redeemed.json()["member_id"])] == [(None, "b-guide", "invite", "b")]  # fmt: skip


def test_a_revoked_till_is_shut_out_and_its_earlier_facts_stay(live: LiveHq) -> None:
    hq = live
    _staff(hq, "a")
    stolen, other = hq.counter("a"), hq.counter("a")
    stolen.pull()
    first = _enrol(stolen, "+8613800008888")["payload"]
    stolen.push()
    hq.applied()
    # Pushed and acknowledged a moment before revocation, maybe not applied yet: still a fact.
    late = _sale(stolen, member_id=first["member_id"])
    stolen.push([late])
    revoked = hq.client.post(f"/v1/devices/{stolen.device_id}/revoke", headers=hq.as_admin())
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["accepted_through"] == late["seq"]
    again = hq.client.post(f"/v1/devices/{stolen.device_id}/revoke", headers=hq.as_admin())
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]  # revoking twice: no change
    assert hq.client.post("/v1/devices/nobody/revoke", headers=hq.as_admin()).status_code == 404
    assert hq.client.post(f"/v1/devices/{other.device_id}/revoke",
                          headers=other.auth).status_code == 403  # fmt: skip

    after = _sale(stolen)
    operations = {
        "pushEvents": lambda: hq.client.post(
            "/v1/sync/push", json={"events": [after]}, headers=stolen.auth
        ),
        "getChanges": lambda: hq.client.get("/v1/sync/changes", headers=stolen.auth),
        "rotateDeviceSecret": lambda: hq.client.post("/v1/devices/rotate", headers=stolen.auth),
        "getCaptureReport": lambda: hq.client.get("/v1/reports/capture", headers=stolen.auth),
        "getEnrolmentReport": lambda: hq.client.get("/v1/reports/enrolments", headers=stolen.auth),
        "getRungReport": lambda: hq.client.get("/v1/reports/rungs", headers=stolen.auth),
        "getRepurchaseReport": lambda: hq.client.get("/v1/reports/repurchase", headers=stolen.auth),
        "getFollowUpReport": lambda: hq.client.get("/v1/reports/follow-ups", headers=stolen.auth),
        "redeemInvite": lambda: hq.client.post("/v1/invites/redeem", json={}, headers=stolen.auth),
        "eraseMember": lambda: hq.client.post("/v1/members/x/erase", headers=stolen.auth),
        "getErasure": lambda: hq.client.get("/v1/members/x/erasure", headers=stolen.auth),
        "assignGuide": lambda: hq.client.post(
            "/v1/members/x/guide", json={"guide_id": "a"}, headers=stolen.auth
        ),
        "getApplyingStatus": lambda: hq.client.get("/v1/status/applying", headers=stolen.auth),
        "revokeDevice": lambda: hq.client.post(
            f"/v1/devices/{stolen.device_id}/revoke", headers=stolen.auth
        ),
        "getMemberConsents": lambda: hq.client.get("/v1/members/x/consents", headers=stolen.auth),
        "lookUpMember": lambda: hq.client.post(
            "/v1/members/lookup", json={"phone_e164": "+8613800008888"}, headers=stolen.auth
        ),
        "listMemberLookups": lambda: hq.client.get("/v1/admin/lookups", headers=stolen.auth),
        "setGuideWeComUserid": lambda: hq.client.put(
            "/v1/staff/a-guide-0/wecom", json={"userid": "thief"}, headers=stolen.auth
        ),
        "markGuideDeparted": lambda: hq.client.post(
            "/v1/staff/a-guide-0/wecom/departed", headers=stolen.auth
        ),
        "getWeComReport": lambda: hq.client.get("/v1/reports/wecom", headers=stolen.auth),
    }
    spec = hq.client.get("/openapi.json").json()
    authenticated = {
        op["operationId"]
        for path, item in spec["paths"].items()
        for op in item.values()
        if op["operationId"] not in ("health", "registerDevice")
    }
    assert set(operations) == authenticated  # every operation a credential can call
    for name, call in operations.items():
        answer = call()
        assert answer.status_code == 401, (name, answer.status_code, answer.text)
        assert answer.json()["error"] == "unauthenticated", name

    hq.applied()
    rows = hq.rows("SELECT seq, status FROM event WHERE device_id = :d ORDER BY seq",
                   d=stolen.device_id)  # fmt: skip
    assert [tuple(r) for r in rows] == [(first_seq, "applied") for first_seq in (1, 2)]
    assert hq.rows("SELECT visit_count FROM member WHERE id = :m", m=first["member_id"])[0][0] == 1
    assert other.pull() is not None  # the store's other till goes on
    with hq.db.read() as session:
        listed = {d.id: d.revoked_at for d in admin.list_devices(session, store_id="a")}
    assert listed[stolen.device_id] is not None and listed[other.device_id] is None


def test_two_lost_rotation_answers_then_the_till_recovers(live: LiveHq) -> None:
    hq = live
    _staff(hq, "a")
    till = hq.counter("a")
    held = till.auth  # what the till still holds after both answers were lost
    lost = []
    for _ in range(2):
        answer = hq.client.post("/v1/devices/rotate", headers=held)
        assert answer.status_code == 200, answer.text
        lost.append({"Authorization": f"Bearer {answer.json()['device_secret']}"})
    assert hq.client.get("/v1/sync/changes", headers=held).status_code == 200
    rotated = hq.client.post("/v1/devices/rotate", headers=held)
    assert rotated.status_code == 200
    new = {"Authorization": f"Bearer {rotated.json()['device_secret']}"}
    assert hq.client.get("/v1/sync/changes", headers=new).status_code == 200
    for stale in (held, *lost):  # the new one used: every older secret is gone
        assert hq.client.get("/v1/sync/changes", headers=stale).status_code == 401
    # An answer that did arrive after one that was lost: that secret works, older ones go.
    first = hq.client.post("/v1/devices/rotate", headers=new).json()["device_secret"]
    second = hq.client.post("/v1/devices/rotate", headers=new).json()["device_secret"]
    kept = {"Authorization": f"Bearer {first}"}
    assert hq.client.get("/v1/sync/changes", headers=kept).status_code == 200
    assert hq.client.get("/v1/sync/changes", headers=new).status_code == 401
    newest = {"Authorization": f"Bearer {second}"}
    assert hq.client.get("/v1/sync/changes", headers=newest).status_code == 200
    assert hq.client.get("/v1/sync/changes", headers=kept).status_code == 401
    stored = hq.rows("SELECT secret_hash, previous_secret_hash, unused_secret_hashes FROM device")
    assert all(second.split(".")[-1] not in str(v) for r in stored for v in r)
