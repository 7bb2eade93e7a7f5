"""The relationship ladder: rules are data, assess() is pure, monotone and honest about lapses."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.ladder import (
    MAX_RULE_DAYS,
    Assessment,
    Channel,
    CustomerStanding,
    LadderRules,
    NextStep,
    Rung,
    assess,
)

TODAY = date(2026, 11, 25)
RULES = LadderRules()

rules_st = st.builds(
    LadderRules,
    regular_min_purchases=st.integers(0, 6),
    regular_window_days=st.integers(0, 400),
    regular_requires_guide=st.booleans(),
    super_min_purchases=st.integers(0, 12),
    super_window_days=st.integers(0, 800),
    super_min_spend_fen=st.integers(0, 1_000_000),
    super_min_referrals=st.integers(0, 3),
    demote_after_inactive_days=st.integers(0, 800),
)
days_ago = st.integers(0, 1_000)
standing_st = st.builds(
    CustomerStanding,
    is_member=st.just(True),
    purchase_days=st.lists(days_ago, max_size=15).map(
        lambda ds: tuple(TODAY - timedelta(days=d) for d in ds)
    ),
    lifetime_spend_fen=st.integers(0, 2_000_000),
    referrals=st.integers(0, 5),
    has_guide=st.booleans(),
)


def _days_ago(*ds: int) -> tuple[date, ...]:
    return tuple(TODAY - timedelta(days=d) for d in ds)


def _lapsed(standing: CustomerStanding, rules: LadderRules) -> bool:
    """No purchase within demote_after_inactive_days (never having bought included)."""
    return not any(
        0 <= (TODAY - d).days <= rules.demote_after_inactive_days for d in standing.purchase_days
    )


def test_rungs_are_ordered_and_named_as_in_the_glossary() -> None:
    assert [r.value for r in sorted(Rung, key=lambda r: r.level)] == [
        "walk_in",
        "member",
        "regular",
        "super_member",
    ]
    assert [r.level for r in Rung] == [0, 1, 2, 3]
    assert {c.value for c in Channel} == {"mini_program", "micro_mall", "app", "guide_contact"}


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=200)
@given(standing_st, rules_st)
def test_a_non_member_is_always_a_walk_in_offered_the_mini_program(
    standing: CustomerStanding, rules: LadderRules
) -> None:
    walk_in = replace(standing, is_member=False)
    result = assess(walk_in, rules, TODAY)
    assert result.rung is Rung.WALK_IN
    assert result.next_step == NextStep(
        Rung.MEMBER, Channel.MINI_PROGRAM, reason="join_via_mini_program"
    )


@settings(max_examples=400)
@given(
    standing_st,
    rules_st,
    st.lists(days_ago, max_size=4),
    st.integers(0, 500_000),
    st.integers(0, 3),
    st.booleans(),
)
def test_more_purchases_spend_referrals_or_a_guide_never_lower_the_rung(
    standing: CustomerStanding,
    rules: LadderRules,
    more_days: list[int],
    more_spend: int,
    more_referrals: int,
    gets_guide: bool,
) -> None:
    better = CustomerStanding(
        True,
        standing.purchase_days + _days_ago(*more_days),
        standing.lifetime_spend_fen + more_spend,
        standing.referrals + more_referrals,
        standing.has_guide or gets_guide,
    )
    before = assess(standing, rules, TODAY).rung
    after = assess(better, rules, TODAY).rung
    assert after.level >= before.level


@settings(max_examples=300)
@given(standing_st, rules_st)
def test_a_non_lapsed_member_never_loses_a_rung_by_buying_today(
    standing: CustomerStanding, rules: LadderRules
) -> None:
    bought = replace(
        standing,
        purchase_days=(*standing.purchase_days, TODAY),
        lifetime_spend_fen=standing.lifetime_spend_fen + 1,
    )
    assert assess(bought, rules, TODAY).rung.level >= assess(standing, rules, TODAY).rung.level
    assert assess(bought, rules, TODAY).rung is not Rung.WALK_IN


@settings(max_examples=300)
@given(
    rules_st,
    st.lists(st.integers(1, 600), max_size=15),
    st.integers(0, 5_000_000),
    st.integers(0, 10),
    st.booleans(),
)
def test_a_lapsed_member_is_never_regular_or_super(
    rules: LadderRules, extra_days: list[int], spend: int, referrals: int, guide: bool
) -> None:
    # every purchase older than demote_after_inactive_days (or none at all)
    old = _days_ago(*(rules.demote_after_inactive_days + d for d in extra_days))
    standing = CustomerStanding(True, old, spend, referrals, guide)
    assert _lapsed(standing, rules)
    result = assess(standing, rules, TODAY)
    assert result.rung is Rung.MEMBER
    assert result.next_step.channel is Channel.MICRO_MALL
    assert result.next_step.target is Rung.REGULAR
    if old:
        assert result.reasons == ("lapsed",)
        assert result.next_step.reason == "win_back"


@settings(max_examples=300)
@given(standing_st, rules_st)
def test_the_next_step_follows_the_rung(standing: CustomerStanding, rules: LadderRules) -> None:
    result = assess(standing, rules, TODAY)
    step = result.next_step
    if result.rung is Rung.MEMBER:
        assert (step.target, step.channel) == (Rung.REGULAR, Channel.MICRO_MALL)
        assert step.offer_guide is not standing.has_guide
        assert step.offer_referral is False
    elif result.rung is Rung.REGULAR:
        assert (step.target, step.channel) == (Rung.SUPER_MEMBER, Channel.MICRO_MALL)
        assert step.offer_guide is True
        assert step.offer_referral is (standing.referrals < rules.super_min_referrals)
        assert set(result.reasons) <= {"purchases", "spend", "referrals"}
        assert result.reasons  # a regular is short of super-member in at least one way
    else:
        assert result.rung is Rung.SUPER_MEMBER
        assert step == NextStep(
            None, Channel.APP, offer_referral=True, reason="refer_friends_via_app"
        )
        assert standing.referrals >= rules.super_min_referrals
        assert standing.lifetime_spend_fen >= rules.super_min_spend_fen


@settings(max_examples=200)
@given(standing_st, rules_st, st.randoms(use_true_random=False))
def test_assess_is_pure_and_ignores_the_order_of_purchases(
    standing: CustomerStanding, rules: LadderRules, rng: random.Random
) -> None:
    first = assess(standing, rules, TODAY)
    shuffled = list(standing.purchase_days)
    rng.shuffle(shuffled)
    assert assess(replace(standing, purchase_days=tuple(shuffled)), rules, TODAY) == first
    assert assess(standing, rules, TODAY) == first
    assert isinstance(first, Assessment)


@settings(max_examples=200)
@given(rules_st)
def test_rules_round_trip_as_data(rules: LadderRules) -> None:
    assert LadderRules.from_dict(rules.to_dict()) == rules
    assert LadderRules.from_dict(json.loads(json.dumps(rules.to_dict()))) == rules
    assert LadderRules.from_dict({**rules.to_dict(), "from_a_newer_hq": 1}) == rules


def test_rules_as_data_name_every_threshold() -> None:
    data = RULES.to_dict()
    assert data == {
        "regular_min_purchases": 2,
        "regular_window_days": 180,
        "regular_requires_guide": True,
        "super_min_purchases": 6,
        "super_window_days": 365,
        "super_min_spend_fen": 300_000,
        "super_min_referrals": 1,
        "demote_after_inactive_days": 365,
    }
    assert LadderRules.from_dict({}) == RULES
    assert LadderRules.from_dict({"regular_min_purchases": 3}).regular_min_purchases == 3
    assert LadderRules(regular_window_days=90, super_window_days=400).longest_window_days == 400
    assert LadderRules(regular_window_days=500, super_window_days=400).longest_window_days == 500


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"regular_min_purchases": -1}, "regular_min_purchases"),
        ({"super_min_spend_fen": -1}, "super_min_spend_fen"),
        ({"regular_min_purchases": "2"}, "regular_min_purchases"),
        ({"regular_min_purchases": 2.5}, "regular_min_purchases"),
        ({"regular_window_days": -1.5}, "regular_window_days"),
        ({"super_min_spend_fen": None}, "super_min_spend_fen"),
        ({"super_min_referrals": True}, "super_min_referrals"),
        ({"regular_requires_guide": "no"}, "regular_requires_guide"),
        ({"regular_requires_guide": 0}, "regular_requires_guide"),
        ({"regular_window_days": MAX_RULE_DAYS + 1}, "regular_window_days"),
        ({"super_window_days": 10**7}, "super_window_days"),
        ({"demote_after_inactive_days": 10**12}, "demote_after_inactive_days"),
    ],
)
def test_rules_hq_could_never_apply_are_refused(data: dict[str, object], field: str) -> None:
    # HQ's admin turns ValueError into a refusal; anything let through here would make
    # assess() raise later, on every device.
    with pytest.raises(ValueError, match=field):
        LadderRules.from_dict(data)


def test_the_longest_allowed_windows_still_assess() -> None:
    rules = LadderRules(
        regular_window_days=MAX_RULE_DAYS,
        super_window_days=MAX_RULE_DAYS,
        demote_after_inactive_days=MAX_RULE_DAYS,
    )
    standing = CustomerStanding(True, _days_ago(1, MAX_RULE_DAYS - 1), 0, 0, True)
    assert assess(standing, rules, TODAY).rung is Rung.REGULAR
    assert assess(standing, rules, date(1970, 1, 1)).rung is Rung.MEMBER  # all in its future


# --- thresholds at their boundaries (default rules) ------------------------------------------


def _member(days: tuple[int, ...], spend: int = 5_000, refs: int = 0, guide: bool = True):
    return CustomerStanding(True, _days_ago(*days), spend, refs, guide)


SIX = (1, 20, 40, 60, 80, 300)


@pytest.mark.parametrize(
    ("standing", "rung", "reasons"),
    [
        (CustomerStanding(True), Rung.MEMBER, ()),
        (_member((3,)), Rung.MEMBER, ()),  # one purchase short of regular
        (_member((0, 0)), Rung.REGULAR, ("purchases", "spend", "referrals")),  # both today
        (_member((3, 179)), Rung.REGULAR, ("purchases", "spend", "referrals")),  # 2 in 180 days
        (_member((3, 180)), Rung.MEMBER, ()),  # second one is a day outside the window
        (_member((3, 10), guide=False), Rung.MEMBER, ("needs_guide",)),
        (_member((3, -1)), Rung.MEMBER, ()),  # a purchase dated tomorrow does not count
        (_member(SIX, 300_000, 1), Rung.SUPER_MEMBER, ()),
        (_member(SIX, 299_999, 1), Rung.REGULAR, ("spend",)),
        (_member(SIX, 300_000, 0), Rung.REGULAR, ("referrals",)),
        (_member((1, 20, 40, 60, 80, 364), 300_000, 1), Rung.SUPER_MEMBER, ()),
        (_member((1, 20, 40, 60, 80, 365), 300_000, 1), Rung.REGULAR, ("purchases",)),
        (_member((1, 20, 40, 60, 80), 900_000, 5), Rung.REGULAR, ("purchases",)),
        (_member(SIX, 300_000, 1, guide=False), Rung.SUPER_MEMBER, ()),  # super needs no guide
        (_member((365, 366)), Rung.MEMBER, ()),  # last visit 365 days ago: not lapsed yet
        (_member((366, 370), 900_000, 3), Rung.MEMBER, ("lapsed",)),  # 366 days: lapsed
        (_member((*SIX, 366, 900), 300_000, 1), Rung.SUPER_MEMBER, ()),  # old ones don't hurt
    ],
)
def test_thresholds_at_their_boundaries(
    standing: CustomerStanding, rung: Rung, reasons: tuple[str, ...]
) -> None:
    result = assess(standing, RULES, TODAY)
    assert result.rung is rung
    assert result.reasons == reasons


@pytest.mark.parametrize(
    ("standing", "step"),
    [
        (
            CustomerStanding(False, _days_ago(1, 2, 3), 900_000, 3, True),
            NextStep(Rung.MEMBER, Channel.MINI_PROGRAM, reason="join_via_mini_program"),
        ),
        (
            _member((3,), guide=False),
            NextStep(
                Rung.REGULAR, Channel.MICRO_MALL, offer_guide=True, reason="rebuy_via_micro_mall"
            ),
        ),
        (
            _member((3,), guide=True),
            NextStep(Rung.REGULAR, Channel.MICRO_MALL, reason="rebuy_via_micro_mall"),
        ),
        (
            _member((400,), guide=True),
            NextStep(Rung.REGULAR, Channel.MICRO_MALL, reason="win_back"),
        ),
        (
            _member((3, 10)),
            NextStep(
                Rung.SUPER_MEMBER,
                Channel.MICRO_MALL,
                offer_guide=True,
                offer_referral=True,
                reason="grow_to_super_member",
            ),
        ),
        (
            _member((3, 10), refs=1),
            NextStep(
                Rung.SUPER_MEMBER,
                Channel.MICRO_MALL,
                offer_guide=True,
                reason="grow_to_super_member",
            ),
        ),
        (
            _member(SIX, 300_000, 1),
            NextStep(None, Channel.APP, offer_referral=True, reason="refer_friends_via_app"),
        ),
    ],
)
def test_each_rung_leads_to_its_channel(standing: CustomerStanding, step: NextStep) -> None:
    assert assess(standing, RULES, TODAY).next_step == step


def test_hq_rules_change_the_outcome() -> None:
    standing = _member((3, 10), guide=False)
    assert assess(standing, RULES, TODAY).rung is Rung.MEMBER
    assert assess(standing, LadderRules(regular_requires_guide=False), TODAY).rung is Rung.REGULAR
    strict = LadderRules(regular_min_purchases=3)
    assert assess(_member((3, 10)), strict, TODAY).rung is Rung.MEMBER
    assert assess(_member((3, 10, 20)), strict, TODAY).rung is Rung.REGULAR
    short = LadderRules(demote_after_inactive_days=30)
    assert assess(_member((30, 40)), short, TODAY).rung is Rung.REGULAR
    assert assess(_member((31, 40)), short, TODAY).rung is Rung.MEMBER


def test_zero_thresholds_still_need_a_recent_purchase() -> None:
    # With every threshold at zero, a member who never bought must not outrank one who did.
    anything = LadderRules(
        regular_min_purchases=0,
        regular_requires_guide=False,
        super_min_purchases=0,
        super_min_spend_fen=0,
        super_min_referrals=0,
    )
    assert assess(_member((1,)), anything, TODAY).rung is Rung.SUPER_MEMBER
    assert assess(_member((400,)), anything, TODAY).rung is Rung.MEMBER  # lapsed
    never = assess(CustomerStanding(True), anything, TODAY)
    assert never.rung is Rung.MEMBER
    assert never.next_step.reason == "rebuy_via_micro_mall"
