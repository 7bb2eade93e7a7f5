"""Follow-up rules: pure, one task per kind, never without consent, moving with each purchase."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posapp.domain.follow_up import (
    Facts,
    FollowUpRules,
    Kind,
    Task,
    parse_task_id,
    task_id,
    tasks_for,
    typical_interval,
)

TODAY = date(2026, 11, 25)
RULES = FollowUpRules()

rules_st = st.builds(
    FollowUpRules,
    thank_you_after_days=st.integers(0, 30),
    care_check_after_days=st.integers(0, 60),
    repurchase_default_days=st.integers(0, 400),
    repurchase_min_days=st.integers(0, 30),
    repurchase_max_days=st.integers(30, 400),
    birthday_lead_days=st.integers(0, 30),
    win_back_after_days=st.integers(0, 400),
    expire_after_days=st.integers(0, 60),
)
day_st = st.integers(0, 900).map(lambda n: TODAY - timedelta(days=n))
facts_st = st.builds(
    Facts,
    enrolled_on=day_st,
    purchase_days=st.lists(day_st, max_size=12).map(tuple),
    birthday=st.none() | st.dates(date(1930, 1, 1), date(2012, 12, 31)),
    guide_contact=st.booleans(),
    erased=st.booleans(),
    removed_guide_on=st.none() | day_st,
    done=st.frozensets(st.tuples(st.sampled_from([k.value for k in Kind]), day_st), max_size=6),
)


def _by_kind(tasks: list[Task]) -> dict[Kind, Task]:
    return {t.kind: t for t in tasks}


def _facts(**kw: object) -> Facts:
    base: dict[str, object] = {"enrolled_on": TODAY - timedelta(days=1), "guide_contact": True}
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


@given(facts_st, rules_st, day_st)
def test_no_duplicate_tasks(facts: Facts, rules: FollowUpRules, today: date) -> None:
    tasks = tasks_for(facts, rules, today)
    kinds = [t.kind for t in tasks]
    assert len(kinds) == len(set(kinds))  # at most one task of each kind
    assert tasks == sorted(tasks)
    assert all((t.kind.value, t.anchor_on) not in facts.done for t in tasks)


@given(facts_st, rules_st, day_st)
def test_no_task_without_consent_or_after_erasure(
    facts: Facts, rules: FollowUpRules, today: date
) -> None:
    assert tasks_for(replace(facts, guide_contact=False), rules, today) == []
    assert tasks_for(replace(facts, erased=True, guide_contact=True), rules, today) == []


@given(facts_st, rules_st, st.integers(0, 30))
def test_tasks_move_when_a_new_purchase_arrives(
    facts: Facts, rules: FollowUpRules, ahead: int
) -> None:
    # (a removal in WeCom has its own win-back, anchored on the removal: see below)
    facts = replace(
        facts, guide_contact=True, erased=False, done=frozenset(), removed_guide_on=None
    )
    new_day = max((*facts.purchase_days, facts.enrolled_on)) + timedelta(days=1 + ahead)
    before = _by_kind(tasks_for(facts, rules, new_day))
    after = _by_kind(
        tasks_for(replace(facts, purchase_days=(*facts.purchase_days, new_day)), rules, new_day)
    )
    for kind in (Kind.CARE_CHECK, Kind.REPURCHASE, Kind.WIN_BACK):
        assert after[kind].anchor_on == new_day
        if kind in before:
            assert after[kind].anchor_on > before[kind].anchor_on
    assert after[Kind.CARE_CHECK].due_on == new_day + timedelta(days=rules.care_check_after_days)
    assert after[Kind.WIN_BACK].due_on == new_day + timedelta(days=rules.win_back_after_days)


@given(facts_st, rules_st, day_st)
def test_a_done_task_stays_done(facts: Facts, rules: FollowUpRules, today: date) -> None:
    facts = replace(facts, guide_contact=True, erased=False)
    for task in tasks_for(facts, rules, today):
        done = replace(facts, done=facts.done | {(task.kind.value, task.anchor_on)})
        assert task not in tasks_for(done, rules, today)


def test_a_new_member_is_thanked_the_day_after_enrolment() -> None:
    facts = _facts(enrolled_on=TODAY, purchase_days=(TODAY,))
    tasks = _by_kind(tasks_for(facts, RULES, TODAY))
    assert tasks[Kind.THANK_YOU] == Task(TODAY + timedelta(days=1), Kind.THANK_YOU, TODAY)
    assert tasks[Kind.CARE_CHECK].due_on == TODAY + timedelta(days=7)
    assert tasks[Kind.REPURCHASE].due_on == TODAY + timedelta(days=RULES.repurchase_default_days)
    assert not tasks[Kind.THANK_YOU].is_due(TODAY)
    assert tasks[Kind.THANK_YOU].is_due(TODAY + timedelta(days=1))
    assert tasks[Kind.THANK_YOU].is_overdue(TODAY + timedelta(days=2))


def test_repurchase_follows_the_members_own_rhythm() -> None:
    days = tuple(TODAY - timedelta(days=d) for d in (90, 60, 30, 0))  # every 30 days
    assert typical_interval(days, RULES) == 30
    assert typical_interval((TODAY,), RULES) == RULES.repurchase_default_days
    assert typical_interval((TODAY, TODAY), RULES) == RULES.repurchase_default_days
    assert typical_interval((TODAY, TODAY - timedelta(days=1)), RULES) == RULES.repurchase_min_days
    task = _by_kind(tasks_for(_facts(purchase_days=days), RULES, TODAY))[Kind.REPURCHASE]
    assert task.due_on == TODAY + timedelta(days=30)


def test_birthday_needs_the_birthday_and_consent() -> None:
    born = date(1990, 12, 3)
    tasks = _by_kind(tasks_for(_facts(birthday=born), RULES, TODAY))
    assert tasks[Kind.BIRTHDAY].due_on == date(2026, 12, 3)
    assert Kind.BIRTHDAY not in _by_kind(tasks_for(_facts(), RULES, TODAY))
    leap = _by_kind(tasks_for(_facts(birthday=date(2000, 2, 29)), RULES, date(2027, 2, 1)))
    assert leap[Kind.BIRTHDAY].due_on == date(2027, 2, 28)


def test_win_back_for_a_lapsed_member_and_old_tasks_expire() -> None:
    last = TODAY - timedelta(days=RULES.win_back_after_days)
    tasks = _by_kind(tasks_for(_facts(enrolled_on=last, purchase_days=(last,)), RULES, TODAY))
    assert set(tasks) == {Kind.WIN_BACK}  # the thank-you and the care check expired long ago
    assert tasks[Kind.WIN_BACK].is_due(TODAY)


def test_a_customer_who_removes_the_guide_in_wecom_is_won_back_at_once() -> None:
    recent = TODAY - timedelta(days=10)  # a regular: no win-back for months
    since = TODAY - timedelta(days=100)
    calm = _by_kind(tasks_for(_facts(enrolled_on=since, purchase_days=(recent,)), RULES, TODAY))
    assert Kind.WIN_BACK not in calm or not calm[Kind.WIN_BACK].is_due(TODAY)

    removed = TODAY - timedelta(days=1)
    facts = _facts(enrolled_on=since, purchase_days=(recent,), removed_guide_on=removed)
    tasks = _by_kind(tasks_for(facts, RULES, TODAY))
    assert tasks[Kind.WIN_BACK] == Task(removed, Kind.WIN_BACK, removed)  # due the same day
    done = replace(facts, done=frozenset({(Kind.WIN_BACK.value, removed)}))
    after = _by_kind(tasks_for(done, RULES, TODAY))
    assert Kind.WIN_BACK not in after or after[Kind.WIN_BACK].anchor_on != removed
    expired = TODAY + timedelta(days=RULES.expire_after_days + 1)
    late = _by_kind(tasks_for(facts, RULES, expired))
    assert Kind.WIN_BACK not in late or late[Kind.WIN_BACK].anchor_on != removed


def test_rules_from_hq_are_checked() -> None:
    assert FollowUpRules.from_dict({"care_check_after_days": 3, "x": 1}).care_check_after_days == 3
    for bad in ({"care_check_after_days": "3"}, {"win_back_after_days": -1},
                {"repurchase_min_days": 50, "repurchase_max_days": 10}, {"expire_after_days": True}):  # fmt: skip
        with pytest.raises(ValueError):
            FollowUpRules.from_dict(bad)
    assert FollowUpRules.from_dict(RULES.to_dict()) == RULES


def test_task_ids_round_trip() -> None:
    member = "0192f1c2-0000-7000-8000-000000000001"
    text = task_id(member, Kind.CARE_CHECK, TODAY)
    assert parse_task_id(text) == (member, Kind.CARE_CHECK, TODAY)
    for bad in ("", "x", "m:nope:2026-01-01", "m:care_check:yesterday", ":care_check:2026-01-01"):
        with pytest.raises(ValueError):
            parse_task_id(bad)
