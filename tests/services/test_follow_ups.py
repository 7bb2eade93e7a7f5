"""A guide's customers and follow-ups: computed from the facts, completed once, synced as events."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from roster import CASHIER, GUIDE, MANAGER

from posapp.domain.consent import Notice, Purpose
from posapp.domain.errors import InvalidInput, NotAllowed
from posapp.domain.follow_up import Kind
from posapp.protocol.events import EVENT_TYPES, FollowUpCompleted, ReassignmentRequested
from posapp.services.follow_ups import (
    complete_follow_up,
    completed_follow_ups,
    due_follow_ups,
    my_customers,
    open_follow_ups,
    request_reassignment,
)
from posapp.services.members import change_consent, enrol_member
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.models import Member, RuleSet, Staff

T0 = datetime(2026, 11, 2, 10, 0)
PHONE = "+8613812345678"


def _enrol(db: Database, notice: Notice, phone: str = PHONE, **kw: object) -> str:
    consents = kw.pop("consents", {Purpose.MEMBERSHIP, Purpose.GUIDE_CONTACT})
    with db.write() as s:
        return enrol_member(
            s, phone=phone, consents=consents, notice=notice, staff_id=GUIDE, now=T0, **kw,  # type: ignore[arg-type]
        ).member_id  # fmt: skip


def _sell(db: Database, member_id: str | None, receipt: str, at: datetime) -> None:
    with db.write() as s:
        record_sale(s, receipt_no=receipt, amount="100", member_id=member_id, now=at)


def _events(db: Database, kind: str) -> list[dict[str, object]]:
    rows = db.raw().execute("SELECT payload FROM outbox_event WHERE type = ? ORDER BY seq", (kind,))
    return [json.loads(p) for (p,) in rows]


def _kinds(db: Database, today: date, guide: str = GUIDE) -> dict[Kind, tuple[date, bool]]:
    with db.lookup() as lookup:
        rows = my_customers(lookup, guide, today)
    assert len(rows) <= 1
    return {t.kind: (t.due_on, t.overdue) for r in rows for t in (*r.due, *r.upcoming)}


def test_my_customers_shows_masked_phones_and_tasks_from_the_facts(
    db: Database, notice: Notice
) -> None:
    member = _enrol(db, notice, name="李雷", birthday=date(1990, 11, 20))
    _sell(db, member, "R-1", T0)
    _sell(db, None, "R-2", T0)  # a walk-in is nobody's customer
    today = T0.date() + timedelta(days=1)
    with db.lookup() as lookup:
        [row] = my_customers(lookup, GUIDE, today)
        assert my_customers(lookup, CASHIER, today) == []
    assert row.member_id == member and row.name == "李雷"
    assert row.phone_masked != PHONE and PHONE[-4:] in row.phone_masked
    assert (row.visit_count, row.repurchases, row.lifetime_spend_fen) == (1, 0, 10_000)
    assert [t.kind for t in row.due] == [Kind.THANK_YOU]
    assert {t.kind for t in row.upcoming} == {
        Kind.CARE_CHECK, Kind.REPURCHASE, Kind.WIN_BACK, Kind.BIRTHDAY,
    }  # fmt: skip
    assert row.next_due_on == today and row.overdue_count == 0
    assert PHONE not in repr(row)


def test_a_new_purchase_moves_the_tasks_and_withdrawn_consent_cancels_them(
    db: Database, notice: Notice
) -> None:
    member = _enrol(db, notice)
    _sell(db, member, "R-1", T0)
    later = T0 + timedelta(days=10)
    assert _kinds(db, later.date())[Kind.CARE_CHECK] == (T0.date() + timedelta(days=7), True)
    _sell(db, member, "R-2", later)
    assert _kinds(db, later.date())[Kind.CARE_CHECK] == (later.date() + timedelta(days=7), False)
    assert _kinds(db, later.date())[Kind.REPURCHASE][0] == later.date() + timedelta(days=14)
    with db.write() as s:
        change_consent(s, member_id=member, purpose=Purpose.GUIDE_CONTACT, granted=False,
                       notice=notice, staff_id=GUIDE, now=later)  # fmt: skip
    assert _kinds(db, later.date()) == {}
    with db.lookup() as lookup:
        [row] = my_customers(lookup, GUIDE, later.date())
    assert row.guide_contact is False and row.due == () and row.upcoming == ()


def test_no_tasks_without_consent_or_after_erasure(db: Database, notice: Notice) -> None:
    silent = _enrol(db, notice, consents={Purpose.MEMBERSHIP})
    assert _kinds(db, T0.date() + timedelta(days=1)) == {}
    other = _enrol(db, notice, phone="+8613911112222")
    with db.write() as s:
        s.get(Member, other).erased_at = T0  # type: ignore[union-attr]
    with db.lookup() as lookup:  # the erased one is gone; the other is listed, with no tasks
        assert [r.member_id for r in my_customers(lookup, GUIDE, T0.date())] == [silent]


def test_completing_a_follow_up_writes_it_once_and_reports_it(db: Database, notice: Notice) -> None:
    member = _enrol(db, notice)
    when = T0 + timedelta(days=1)
    with db.lookup() as lookup:
        [due] = due_follow_ups(lookup, GUIDE, when.date())
    assert due.task.kind is Kind.THANK_YOU and due.phone_masked != PHONE
    for _ in range(2):  # a double submit
        with db.write() as s:
            done = complete_follow_up(s, due.task.id, GUIDE, "wecom", "reached", when)
    assert done.created is False and done.kind is Kind.THANK_YOU
    [event] = _events(db, "follow_up.completed")
    parsed = FollowUpCompleted.model_validate(event)
    assert (parsed.member_id, parsed.kind, parsed.channel, parsed.outcome, parsed.staff_id) == (
        member, "thank_you", "wecom", "reached", GUIDE,
    )  # fmt: skip
    assert PHONE not in json.dumps(event)
    with db.lookup() as lookup:
        assert due_follow_ups(lookup, GUIDE, when.date()) == []
        assert Kind.THANK_YOU not in {t.kind for t in open_follow_ups(lookup, member, when.date())}
        [history] = completed_follow_ups(lookup, member)
    assert (history.staff_id, history.channel.value, history.outcome.value) == (
        GUIDE, "wecom", "reached",
    )  # fmt: skip


def test_a_follow_up_that_is_no_longer_open_or_badly_chosen_is_refused(
    db: Database, notice: Notice
) -> None:
    member = _enrol(db, notice)
    _sell(db, member, "R-1", T0)
    with db.lookup() as lookup:
        care = next(t for t in open_follow_ups(lookup, member, T0.date()) if t.kind == "care_check")
    _sell(db, member, "R-2", T0 + timedelta(days=3))  # replaces the care check
    for task_id, channel, outcome, rule in (
        (care.id, "phone", "reached", "not_open"),
        ("nonsense", "phone", "reached", "unknown"),
        (care.id, "fax", "reached", "bad_choice"),
        (care.id, "phone", "married", "bad_choice"),
    ):
        with pytest.raises(InvalidInput) as refused, db.write() as s:
            complete_follow_up(s, task_id, GUIDE, channel, outcome, T0 + timedelta(days=4))
        assert refused.value.rule == rule
    assert _events(db, "follow_up.completed") == []


def test_hq_rules_change_the_schedule(db: Database, notice: Notice) -> None:
    _enrol(db, notice)
    with db.write() as s:
        s.add(RuleSet(kind="follow_up", body='{"thank_you_after_days": 3}', updated_at=T0))
    assert _kinds(db, T0.date())[Kind.THANK_YOU][0] == T0.date() + timedelta(days=3)
    with db.write() as s:  # a broken rule set from HQ: the defaults, not a crash
        s.get(RuleSet, "follow_up").body = '{"thank_you_after_days": "soon"}'  # type: ignore[union-attr]
    assert _kinds(db, T0.date())[Kind.THANK_YOU][0] == T0.date() + timedelta(days=1)


def test_a_manager_requests_a_reassignment_and_others_may_not(db: Database, notice: Notice) -> None:
    member = _enrol(db, notice)
    with db.write() as s:
        s.add(Staff(id="guide-2", store_id="test-store", name="李娜", role="guide", active=True))
    with pytest.raises(NotAllowed), db.write() as s:
        request_reassignment(s, member, "guide-2", GUIDE)
    with pytest.raises(InvalidInput) as same, db.write() as s:
        request_reassignment(s, member, GUIDE, MANAGER)
    assert same.value.rule == "same"
    with pytest.raises(InvalidInput) as cashier, db.write() as s:
        request_reassignment(s, member, CASHIER, MANAGER)
    assert cashier.value.rule == "unknown"
    with db.write() as s:
        asked = request_reassignment(s, member, "guide-2", MANAGER, T0)
    assert (asked.from_guide_id, asked.to_guide_id) == (GUIDE, "guide-2")
    [event] = _events(db, "assignment.requested")
    assert ReassignmentRequested.model_validate(event).manager_id == MANAGER
    with db.read() as s:  # HQ decides; nothing changes here until its answer comes down
        assert s.get(Member, member).guide_id == GUIDE  # type: ignore[union-attr]
    audit = db.raw().execute("SELECT action, staff_id FROM audit_log ORDER BY id").fetchall()
    assert ("refused:reassign_customer", GUIDE) in audit
    assert ("reassign_customer", MANAGER) in audit
    assert "assignment.requested" in EVENT_TYPES
