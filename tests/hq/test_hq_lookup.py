"""HQ's member look-up: a counter of store B recognises store A's member by one whole key,
and only by one; the look-up makes B a holder, is audited, limited, and blind to erasure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hq_harness import NOTICE, Counter, Hq, members_in, now

from posapp.domain.member_code import new_member_code
from posapp.hq import admin
from posapp.hq.config import HqSettings
from posapp.hq.db import HqDatabase
from posapp.hq.main import create_app
from posapp.hq.migrate import migrate

PHONE = "+8613812345678"
LIMIT = 5


@pytest.fixture
def hq(hq_settings: HqSettings) -> Iterator[Hq]:
    """The HQ app with a small look-up limit, so the test can reach it."""
    db = HqDatabase(hq_settings.db_url)
    migrate(db)
    settings = hq_settings.model_copy(update={"lookup_limit_per_minute": LIMIT})
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
        yield Hq(client, db)
    db.close()


def _world(hq: Hq) -> tuple[Counter, Counter, dict[str, Any]]:
    hq.store("a")
    hq.store("b")
    at_a, at_b = hq.counter("a"), hq.counter("b")
    enrolled = at_a.enrol(PHONE, name="王芳")["payload"]
    at_a.push()
    at_b.pull()  # B's snapshot: A's member is not in it
    return at_a, at_b, enrolled


def _ask(till: Counter, **key: str) -> Any:
    return till.client.post("/v1/members/lookup", json=key, headers=till.auth)


def test_store_b_recognises_a_member_of_store_a_by_phone_and_by_code(hq: Hq) -> None:
    _, at_b, enrolled = _world(hq)
    by_phone = _ask(at_b, phone_e164=PHONE)
    assert by_phone.status_code == 200, by_phone.text
    member = by_phone.json()["member"]
    assert member["member_id"] == enrolled["member_id"]
    assert member["phone_e164"] == PHONE and member["name"] == "王芳"
    assert member["home_store_id"] == "a" and member["consents"] == {"membership": True}
    assert by_phone.json()["enrolled_store_name"] == "门店 a"
    by_code = _ask(at_b, member_code=enrolled["member_code"])
    assert by_code.status_code == 200 and by_code.json() == by_phone.json()
    stores = hq.rows(
        "SELECT store_id FROM member_store WHERE member_id = :m", m=member["member_id"]
    )
    assert sorted(r.store_id for r in stores) == ["a", "b"]
    # B's feed brings the member too (once, though B asked twice), as the answer said
    assert members_in(at_b.pull()) == {member["member_id"]: member}


def test_later_changes_at_a_reach_b_through_its_feed(hq: Hq) -> None:
    at_a, at_b, enrolled = _world(hq)
    _ask(at_b, phone_e164=PHONE)
    at_b.pull()
    withdraw = {"purpose": "membership", "granted": False, "notice": NOTICE}
    at_a.event("consent.changed", {"member_id": enrolled["member_id"], "choice": withdraw,
                                   "changed_at": now().isoformat()})  # fmt: skip
    at_a.push()
    hq.applied()
    assert members_in(at_b.pull())[enrolled["member_id"]]["consents"] == {"membership": False}
    with hq.db.write() as session:
        admin.erase_member(session, member_id=enrolled["member_id"], requested_by="t", now=now(),
                           master_key=b"k")  # fmt: skip
    erased = [c for c in at_b.pull() if c["kind"] == "member.erased"]
    assert [c["key"] for c in erased] == [enrolled["member_id"]]


def test_only_whole_keys_are_looked_up(hq: Hq) -> None:
    _, at_b, enrolled = _world(hq)
    code = enrolled["member_code"]
    wrong_digit = code[:-1] + str((int(code[-1]) + 1) % 10)
    for key, rule in (
        ({"phone_e164": "5678"}, "phone_e164.whole_phone"),
        ({"phone_e164": "13812345678"}, "phone_e164.whole_phone"),  # national, not E.164
        ({"phone_e164": "+86138123"}, "phone_e164.whole_phone"),
        ({"phone_e164": "王"}, "phone_e164.whole_phone"),
        ({"member_code": code[:8]}, "member_code.whole_code"),
        ({"member_code": wrong_digit}, "member_code.whole_code"),
        ({"member_code": "王芳"}, "member_code.whole_code"),
        ({}, "lookup.one_key"),
        ({"phone_e164": PHONE, "member_code": code}, "lookup.one_key"),
    ):
        answer = _ask(at_b, **key)
        assert answer.status_code == 422, (key, answer.text)
        assert answer.json()["error"] == rule, key
    assert _ask(at_b, name="王").status_code == 422  # no such field: refused whole
    held = hq.rows("SELECT store_id FROM member_store WHERE store_id = 'b'")
    assert held == []


def test_an_erased_member_is_nobody(hq: Hq, hq_settings: HqSettings) -> None:
    _, at_b, enrolled = _world(hq)
    nobody = _ask(at_b, phone_e164="+8613900000000")
    with hq.db.write() as session:
        admin.erase_member(session, member_id=enrolled["member_id"], requested_by="t", now=now(),
                           master_key=b"k")  # fmt: skip
    for key in ({"phone_e164": PHONE}, {"member_code": enrolled["member_code"]}):
        answer = _ask(at_b, **key)
        assert answer.status_code == nobody.status_code == 200
        assert answer.content == nobody.content == b'{"member":null,"enrolled_store_name":""}'
    assert hq.rows("SELECT store_id FROM member_store WHERE store_id = 'b'") == []
    assert not [c for c in at_b.pull() if c["key"] == enrolled["member_id"]]


def test_only_a_counter_looks_up_and_within_its_rate(hq: Hq) -> None:
    _, at_b, _ = _world(hq)
    for headers in (hq.as_admin(), hq.as_partner(), {}):
        answer = hq.client.post("/v1/members/lookup", json={"phone_e164": PHONE}, headers=headers)
        assert answer.status_code in (401, 403), answer.text
    for _ in range(LIMIT - 1):
        assert _ask(at_b, phone_e164=PHONE).status_code == 200
    assert _ask(at_b, member_code=new_member_code()).status_code == 200
    refused = _ask(at_b, phone_e164=PHONE)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "lookup_rate_limited"
    assert "limit" in refused.json()["message"] and refused.headers["Retry-After"].isdigit()
    other = hq.counter("b")  # another till of the same store has its own minute
    assert _ask(other, phone_e164=PHONE).status_code == 200


def test_every_look_up_is_in_the_audit_an_admin_reads(hq: Hq) -> None:
    _, at_b, enrolled = _world(hq)
    _ask(at_b, phone_e164=PHONE)
    _ask(at_b, member_code=new_member_code())
    _ask(at_b, phone_e164="5678")  # refused before it is a look-up: nothing was looked up
    for _ in range(LIMIT):
        _ask(at_b, phone_e164=PHONE)
    assert hq.client.get("/v1/admin/lookups", headers=at_b.auth).status_code == 403
    answer = hq.client.get("/v1/admin/lookups", headers=hq.as_admin())
    assert answer.status_code == 200, answer.text
    rows = answer.json()
    assert len(rows) == 2 + LIMIT
    assert {r["device_id"] for r in rows} == {at_b.device_id}
    assert {r["store_id"] for r in rows} == {"b"}
    oldest_first = rows[::-1]
    assert [(r["kind"], r["outcome"], r["member_id"]) for r in oldest_first[:2]] == [
        ("phone", "found", enrolled["member_id"]),
        ("member_code", "not_found", None),
    ]
    assert [r["outcome"] for r in oldest_first[2:]] == ["found"] * (LIMIT - 2) + [
        "rate_limited"
    ] * 2
    mine = hq.client.get(
        "/v1/admin/lookups", params={"member_id": enrolled["member_id"]}, headers=hq.as_admin()
    ).json()
    assert len(mine) == LIMIT - 1 and all(r["at"] for r in mine)
