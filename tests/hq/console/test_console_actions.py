"""What the console changes, on SQLite and PostgreSQL: staff and rules reaching counters,
WeCom's transfer limit, erasure with each store's acknowledgement, a member's export."""

from __future__ import annotations

import json

import pytest
from console_world import EAST_PHONE, WEST_PHONE, World, build
from hq_harness import Hq
from sqlalchemy import func, select

from posapp.domain.ladder import LadderRules
from posapp.hq.models import AuditEntry, Member, RuleSet, Staff


@pytest.fixture
def world(hq: Hq) -> World:
    return build(hq)


def _audited(world: World, action: str) -> int:
    with world.hq.db.read() as session:
        return session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


def test_staff_changes_reach_the_stores_counters_and_stay_in_their_store(world: World) -> None:
    till = world.hq.counter("east")
    till.pull()
    east = world.person("east")
    changed = east.post("/console/stores/east/staff/east-guide-0", {"change": "deactivate"},
                        page="/console/stores/east")  # fmt: skip
    assert changed.status_code == 303
    east.post("/console/stores/east/staff/east-guide-0", {"change": "pin", "pin": "9753"},
              page="/console/stores/east")  # fmt: skip
    staff = [c["data"] for c in till.pull() if c["kind"] == "staff"]
    assert staff and staff[-1]["staff_id"] == "east-guide-0" and staff[-1]["active"] is False
    assert staff[-1]["pin_hash"].startswith("$argon2id$") and len(staff) == 2
    bad = east.post("/console/stores/east/staff/east-guide-0", {"change": "pin", "pin": "12"},
                    page="/console/stores/east")  # fmt: skip
    assert bad.status_code == 422 and 'id="message"' in bad.text
    for path in (
        "/console/stores/west/staff/west-guide-0",
        "/console/stores/east/staff/west-guide-0",
    ):
        refused = east.post(path, {"change": "deactivate"}, page="/console/stores/east")
        assert refused.status_code in (403, 404), path
    with world.hq.db.read() as session:
        assert session.get(Staff, "west-guide-0").active is True


def test_a_rule_change_is_validated_and_reaches_a_counter(world: World) -> None:
    till = world.hq.counter("west")
    till.pull()
    admin = world.person("admin")
    form = {k: ("on" if v is True else "" if v is False else str(v))
            for k, v in {**LadderRules().to_dict(), "regular_min_purchases": 4}.items()}  # fmt: skip
    assert admin.post("/console/rules/ladder", form, page="/console/rules").status_code == 303
    rules = [c["data"] for c in till.pull() if c["kind"] == "rules"]
    assert rules and rules[-1]["regular_min_purchases"] == 4
    assert rules[-1]["regular_requires_guide"] is True
    bad = admin.post("/console/rules/channels", {"mini_program": "javascript:alert(1)//{token}",
                                                 "micro_mall": "", "app": "", "guide_contact": ""},
                     page="/console/rules")  # fmt: skip
    assert bad.status_code == 422
    with world.hq.db.read() as session:
        assert session.get(RuleSet, "channels") is None
    assert world.person("east").get("/console/rules").status_code == 403


def test_a_third_transfer_in_90_days_is_refused_and_the_count_is_shown_first(world: World) -> None:
    world.hq.store("east2", staff=3)
    with world.hq.db.write() as session:
        session.execute(
            Staff.__table__.update().where(Staff.store_id == "east2").values(store_id="east")
        )
    admin = world.person("admin")
    member = f"/console/members/{world.members['east']}"
    for guide in ("east-guide-0", "east2-guide-0", "east2-guide-1"):
        assert admin.post(f"{member}/guide", {"guide_id": guide}, page=member).status_code == 303
    page = admin.get(member).text
    assert 'data-transfers="2"' in page
    refused = admin.post(f"{member}/guide", {"guide_id": "east2-guide-2"}, page=member)
    assert refused.status_code == 422 and "transfer_limit" not in refused.text
    assert "twice in the last 90 days" in refused.text
    with world.hq.db.read() as session:
        assert session.get(Member, world.members["east"]).guide_id == "east2-guide-1"
    assert _audited(world, "member.guide") == 3


def test_an_erasure_shows_each_stores_acknowledgement_as_it_arrives(world: World) -> None:
    privacy = world.person("privacy")
    member = f"/console/members/{world.members['west']}"
    wrong = privacy.post(f"{member}/erase", {"confirm": "not the code"}, page=member)
    assert wrong.status_code == 422
    assert world.person("analyst").post(f"{member}/erase", {"confirm": world.codes["west"]},
                                        page=member).status_code == 403  # fmt: skip
    till = world.hq.counter("west")
    till.pull()
    done = privacy.post(f"{member}/erase", {"confirm": world.codes["west"]}, page=member)
    assert done.status_code == 303
    shown = privacy.get(member).text
    assert WEST_PHONE[-4:] not in shown and 'id="erasure"' in shown
    assert "等待门店确认" in shown  # no store has applied it yet
    erased = [c for c in till.pull() if c["kind"] == "member.erased"]
    assert erased, "the store was not told"
    till.event("erasure.applied", {"member_id": world.members["west"]})
    till.push()
    world.hq.applied()
    api = world.hq.client.get(f"/v1/members/{world.members['west']}/erasure",
                              headers=world.hq.as_admin()).json()  # fmt: skip
    shown = privacy.get(member).text
    for store, at in api["stores"].items():
        assert at is not None, api
        assert at in shown and "等待门店确认" not in shown, store
    assert _audited(world, "member.erase") == 1


def test_a_members_own_data_export_is_for_the_privacy_officer_and_on_record(world: World) -> None:
    path = f"/console/members/{world.members['east']}/export.json"
    answer = world.person("privacy").get(path)
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    data = json.loads(answer.content)
    assert data["member"]["phone"] == EAST_PHONE and data["purchases"][0]["amount_fen"] == 12_300
    assert data["consents"][0]["purpose"] == "membership"
    for role in ("analyst", "east"):
        refused = world.person(role).get(path)
        assert refused.status_code == 403 and EAST_PHONE not in refused.text
    assert _audited(world, "member.export") == 1


def test_a_member_enrolled_again_at_another_store_shows_the_merge(world: World) -> None:
    till = world.hq.counter("west")
    again = till.enrol(EAST_PHONE, name="王小明")
    till.push()
    world.hq.applied()
    page = world.person("admin").get(f"/console/members/{world.members['east']}").text
    assert 'id="merged"' in page and again["payload"]["member_id"] in page
    assert "east, west" in page  # the member is held by both stores now


def test_a_stores_time_zone_set_in_the_console_reaches_its_counter(world: World) -> None:
    till = world.hq.counter("east")
    till.pull()
    east = world.person("east")  # the region's manager may edit their own store
    form = {"name": "东店", "region": "CN", "timezone": "Asia/Urumqi"}
    assert east.post("/console/stores/east", form).status_code == 303
    sent = [c["data"] for c in till.pull() if c["kind"] == "store"]
    assert sent and sent[-1]["timezone"] == "Asia/Urumqi"
    assert _audited(world, "store.timezone") == 1
    assert "Asia/Urumqi" in east.get("/console/stores/east").text
    unchanged = east.post("/console/stores/east", form)  # the same zone again: nothing sent
    assert unchanged.status_code == 303 and not [c for c in till.pull() if c["kind"] == "store"
                                                 and "timezone" in c["data"]]  # fmt: skip
    bad = east.post("/console/stores/east", {**form, "timezone": "Mars/Olympus" * 1000})
    assert bad.status_code == 422 and "IANA" in bad.text and "Olympus" * 100 not in bad.text
    assert _audited(world, "store.timezone") == 1
