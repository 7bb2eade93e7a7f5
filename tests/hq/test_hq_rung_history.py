"""Rung movements as facts: HQ records each change of a member's rung (when, from, to, why)
in ``recompute_members``, sends the latest down with the member, keeps it through merges
and deletes it with an erasure; the counter keeps HQ's record (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hq_harness import Hq, members_in, now
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from posapp.domain.ids import new_id
from posapp.domain.ladder import CustomerStanding, LadderRules, Rung, assess, move_reason
from posapp.domain.member_code import new_member_code
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.feed import member_views, read_changes
from posapp.hq.members import ladder_rules, recompute_members, settle_members
from posapp.hq.migrate import migrate
from posapp.hq.models import Consent, Member, MemberStore, RungChange, Sale
from posapp.protocol.changes import (
    HISTORY_SENT,
    MemberChange,
    MemberMerged,
    MemberView,
    MergedChange,
    RungMove,
)
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.hq_changes import apply_page

START = datetime(2026, 1, 5, 9)
QUICK = {"regular_min_purchases": 2, "regular_window_days": 90, "super_min_purchases": 3,
         "super_window_days": 180, "super_min_spend_fen": 100_000, "super_min_referrals": 1,
         "demote_after_inactive_days": 120}  # fmt: skip
NOTICE = {"notice_id": "privacy", "notice_version": 1, "notice_language": "zh-CN",
          "notice_hash": "a" * 64}  # fmt: skip


def _moves(hq: Hq, member: str) -> list[RungChange]:
    hq.applied()
    with hq.db.read() as s:
        query = select(RungChange).where(RungChange.member_id == member).order_by(RungChange.id)
        return list(s.scalars(query))


def _history(hq: Hq, member: str) -> list[tuple[str, str, str]]:
    return [(r.from_rung, r.to_rung, r.reason) for r in _moves(hq, member)]


def _assign(hq: Hq, member: str, guide: str) -> None:
    answer = hq.client.post(
        f"/v1/members/{member}/guide", json={"guide_id": guide}, headers=hq.as_admin()
    )
    assert answer.status_code == 200, answer.text


def test_purchases_move_a_member_up_and_a_lapse_down_each_with_its_reason(hq: Hq) -> None:
    hq.store("a", staff=1)
    with hq.db.write() as session:
        admin.set_rules(session, kind="ladder", body={"super_min_referrals": 0}, now=now())
    till = hq.counter("a")
    till.pull()
    began = now()
    member = till.enrol("+8613812345678", name="李雷")["payload"]["member_id"]
    till.push()
    assert _history(hq, member) == [("walk_in", "member", "enrolled")]
    _assign(hq, member, "a-guide-0")  # a guide alone makes no regular: no change of rung
    assert _history(hq, member) == [("walk_in", "member", "enrolled")]
    for _ in range(6):
        till.push([till.sale(member_id=member, amount_fen=60_000)])
        hq.applied()
    assert _history(hq, member) == [
        ("walk_in", "member", "enrolled"),
        ("member", "regular", "purchases"),  # the second purchase, with a guide
        ("regular", "super_member", "purchases"),  # the sixth, past 3,000 yuan
    ]
    assert all(began <= r.at <= now() for r in _moves(hq, member))
    later = now() + timedelta(days=400)
    with hq.db.write() as session:
        settle_members(session, {member}, now=later)  # a year and more without a visit
    assert _history(hq, member)[-1] == ("super_member", "member", "lapsed")
    assert _moves(hq, member)[-1].at == later
    sent = members_in(till.pull())[member]["rung_history"]
    assert [(m["from_rung"], m["to_rung"], m["reason"]) for m in sent] == _history(hq, member)
    assert sent[-1]["at"].startswith(later.isoformat()[:19])


@pytest.fixture
def hq_db(hq_url: str) -> Iterator[HqDatabase]:
    database = HqDatabase(hq_url)
    migrate(database)
    with database.write() as session:
        admin.add_store(session, store_id="a", name="静安店", now=START)
        admin.set_rules(session, kind="ladder", body=QUICK, now=START)
    yield database
    database.close()


# One fact about the member, some days after the one before: a sale (its amount), their
# membership consent (granted or withdrawn), a guide (given or taken), a friend referred.
event_st = st.tuples(
    st.sampled_from(["sale", "sale", "consent", "guide", "referral"]),
    st.integers(0, 150),
    st.integers(1_000, 80_000),
    st.booleans(),
)


def _enrol(hq_db: HqDatabase, at: datetime) -> str:
    member_id = new_id()
    with hq_db.write() as s:
        s.add(Member(id=member_id, member_code=new_member_code(), rung="member", home_store_id="a",
                     enrolled_at=at, updated_at=at, referrals=0))  # fmt: skip
        s.flush()
        s.add(MemberStore(member_id=member_id, store_id="a"))
        s.add(Consent(member_id=member_id, purpose="membership", granted=True, source="counter",
                      store_id="a", recorded_at=at, **NOTICE))  # fmt: skip
        settle_members(s, {member_id}, now=at)
    return member_id


Event = tuple[str, int, int, bool]


def _happened(hq_db: HqDatabase, member_id: str, event: Event, at: datetime) -> None:
    kind, _, amount, flag = event
    with hq_db.write() as s:
        member = s.get(Member, member_id)
        assert member is not None
        if kind == "sale":
            s.add(Sale(purchase_id=new_id(), store_id="a", device_id="d", receipt_no=new_id()[:20],
                       amount_fen=amount, currency="CNY", member_id=member_id, occurred_at=at))  # fmt: skip
        elif kind == "consent":
            s.add(Consent(member_id=member_id, purpose="membership", granted=flag,
                          source="counter", store_id="a", recorded_at=at, **NOTICE))  # fmt: skip
        elif kind == "guide":
            member.guide_id = "a-guide" if flag else None
        else:
            member.referrals += 1
        settle_members(s, {member_id}, now=at)


def _replayed(
    events: list[tuple[str, int, int, bool]], rules: LadderRules
) -> list[tuple[Any, ...]]:
    """The history the ladder gives for these facts, replayed in order with pure code."""
    history: list[tuple[Any, ...]] = []
    at, sales = START, []
    standing = CustomerStanding(is_member=True)
    before: CustomerStanding | None = None
    rung = Rung.WALK_IN
    for kind, gap, amount, flag in [("enrol", 0, 0, True), *events]:
        at += timedelta(days=gap) if kind != "enrol" else timedelta()
        if kind == "sale":
            sales.append((at, amount))
        elif kind == "consent":
            standing = replace(standing, is_member=flag)
        elif kind == "guide":
            standing = replace(standing, has_guide=flag)
        elif kind == "referral":
            standing = replace(standing, referrals=standing.referrals + 1)
        since = at - timedelta(days=rules.longest_window_days)
        recent = tuple(t.date() for t, _ in sales if t >= since)
        if not recent and sales:
            recent = (max(t for t, _ in sales).date(),)
        standing = replace(standing, purchase_days=recent,
                           lifetime_spend_fen=sum(a for _, a in sales))  # fmt: skip
        new = assess(standing, rules, at.date()).rung
        if new != rung:
            why = move_reason(rung, new, before, standing, rules, at.date())
            history.append((at, rung.value, new.value, why.value))
        rung = new
        before = replace(standing, purchase_days=(max(recent),) if recent else ())
    return history


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.lists(event_st, max_size=14))
def test_rung_history_replayed_from_events_equals_the_recorded_history(
    hq_db: HqDatabase, events: list[tuple[str, int, int, bool]]
) -> None:
    member_id = _enrol(hq_db, START)
    at = START
    for event in events:
        at += timedelta(days=event[1])
        _happened(hq_db, member_id, event, at)
    with hq_db.read() as s:
        rules = ladder_rules(s)
        recorded = [
            (r.at, r.from_rung, r.to_rung, r.reason)
            for r in s.scalars(
                select(RungChange).where(RungChange.member_id == member_id).order_by(RungChange.id)
            )
        ]
        member = s.get(Member, member_id)
        assert member is not None
        sent = member_views(s, [member_id])[member_id].rung_history
    assert recorded == _replayed(events, rules)
    # A chain: from walk-in, each move from where the last left off, to the member's rung.
    assert [r[1] for r in recorded[1:]] == [r[2] for r in recorded[:-1]]
    assert recorded[0][1] == "walk_in" and recorded[-1][2] == member.rung
    assert sent is not None
    assert [(m.at, m.from_rung, m.to_rung, m.reason) for m in sent] == recorded[-HISTORY_SENT:]


def test_a_merged_enrolment_keeps_the_survivors_history(hq: Hq) -> None:
    hq.store("a")
    hq.store("b")
    first, second = hq.counter("a"), hq.counter("b")
    second.pull()
    member = first.enrol("+8613812345678")["payload"]["member_id"]
    first.push()
    local = second.enrol("+8613812345678")["payload"]["member_id"]
    second.push()
    assert local != member
    assert _history(hq, member) == [("walk_in", "member", "enrolled")]
    assert _history(hq, local) == []
    changes = second.pull()
    merged = [c for c in changes if c["kind"] == "member.merged"]
    assert merged and merged[0]["data"] == {"from": local, "into": member}
    sent = members_in(changes)[member]["rung_history"]
    assert [(m["from_rung"], m["to_rung"], m["reason"]) for m in sent] == _history(hq, member)


def test_erasure_deletes_the_history_at_hq_and_at_the_counter(
    hq_db: HqDatabase, db: Database
) -> None:
    member_id = _enrol(hq_db, START)
    with hq_db.read() as s:
        page, cursor, _ = read_changes(s, store_id="a", cursor=None, limit=100)
    with db.write() as s:
        apply_page(s, page)
        assert s.scalar(text("SELECT count(*) FROM rung_change")) == 1
    with hq_db.write() as s:
        admin.erase_member(s, member_id=member_id, requested_by="test", now=START, master_key=b"k")
        recompute_members(s, {member_id}, now=START + timedelta(days=1))  # nothing comes back
    with hq_db.read() as s:
        assert s.scalar(select(RungChange.id).where(RungChange.member_id == member_id)) is None
        page, _, _ = read_changes(s, store_id="a", cursor=cursor, limit=100)
    with db.write() as s:
        apply_page(s, page)
        assert s.scalar(text("SELECT count(*) FROM rung_change")) == 0


def test_the_counter_keeps_hqs_history_replaced_by_each_member_change(
    hq_db: HqDatabase, db: Database
) -> None:
    member_id = _enrol(hq_db, START)
    with hq_db.read() as s:
        page, cursor, _ = read_changes(s, store_id="a", cursor=None, limit=100)
    with db.write() as s:
        apply_page(s, page)
    for days in (1, 2):  # two sales with a guide: a regular
        _happened(hq_db, member_id, ("guide", 0, 0, True), START + timedelta(days=days))
        _happened(hq_db, member_id, ("sale", 0, 5_000, False), START + timedelta(days=days))
    with hq_db.read() as s:
        page, cursor, _ = read_changes(s, store_id="a", cursor=cursor, limit=100)
    with db.write() as s:
        apply_page(s, page)
        kept = s.execute(
            text("SELECT member_id, at, from_rung, to_rung, reason FROM rung_change ORDER BY id")
        ).all()
        rung = s.scalar(text("SELECT rung FROM member WHERE id = :m"), {"m": member_id})
    assert [tuple(r[2:]) for r in kept] == [
        ("walk_in", "member", "enrolled"),
        ("member", "regular", "purchases"),
    ]
    assert {r[0] for r in kept} == {member_id} and rung == "regular"
    assert kept[1][1].startswith((START + timedelta(days=2)).isoformat(sep=" "))


def test_an_offline_sale_keeps_the_counters_provisional_rung_until_hq_has_it(
    hq_db: HqDatabase, db: Database
) -> None:
    member_id = _enrol(hq_db, START)
    with hq_db.read() as s:
        page, cursor, _ = read_changes(s, store_id="a", cursor=None, limit=100)
    with db.write() as s:
        apply_page(s, page)
        record_sale(s, receipt_no="R-1", amount="50", member_id=member_id,
                    now=START + timedelta(days=1))  # fmt: skip
    # Meanwhile HQ hears of a guide and two sales elsewhere: a regular, HQ says.
    for event in (("guide", 0, 0, True), ("sale", 0, 5_000, False), ("sale", 0, 5_000, False)):
        _happened(hq_db, member_id, event, START + timedelta(days=1))

    def counter_side() -> tuple[str, list[tuple[str, ...]]]:
        with db.read() as s:
            rung = s.scalar(text("SELECT rung FROM member WHERE id = :m"), {"m": member_id})
            moves = s.execute(text("SELECT from_rung, to_rung, reason FROM rung_change"
                                   " ORDER BY id")).all()  # fmt: skip
        return rung, [tuple(m) for m in moves]

    with hq_db.read() as s:
        page, cursor, _ = read_changes(s, store_id="a", cursor=cursor, limit=100)
    with db.write() as s:
        apply_page(s, page)  # the member's own sale is not at HQ yet: HQ's view waits
    assert counter_side() == ("member", [("walk_in", "member", "enrolled")])
    with db.write() as s:
        s.execute(text("UPDATE outbox_event SET acked_at = :now"), {"now": START})
    _happened(hq_db, member_id, ("sale", 0, 5_000, False), START + timedelta(days=2))
    with hq_db.read() as s:
        page, _, _ = read_changes(s, store_id="a", cursor=cursor, limit=100)
    with db.write() as s:
        apply_page(s, page)
    assert counter_side() == (
        "regular",
        [("walk_in", "member", "enrolled"), ("member", "regular", "purchases")],
    )


def test_a_merge_at_the_counter_moves_the_history_to_the_survivor(db: Database) -> None:
    moved = RungMove(at=START, from_rung="walk_in", to_rung="member", reason="enrolled")
    local = MemberView(member_id="m-local", member_code="80000009", rung="member",
                       enrolled_at=START, rung_history=[moved])  # fmt: skip
    with db.write() as s:
        apply_page(s, [MemberChange(seq=1, key="m-local", data=local),
                       MergedChange(seq=2, key="m-local",
                                    data=MemberMerged(from_id="m-local", into="m-hq"))])  # fmt: skip
        kept = s.execute(text("SELECT member_id, reason FROM rung_change")).all()
    assert [tuple(r) for r in kept] == [("m-hq", "enrolled")]
