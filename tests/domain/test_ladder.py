"""The relationship ladder: pure, data-driven, monotone, and honest about lapsed members."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from posapp.domain.ladder import Channel, CustomerStanding, LadderRules, Rung, assess

TODAY = date(2026, 11, 25)
RULES = LadderRules()

rules_st = st.builds(
    LadderRules,
    regular_min_purchases=st.integers(1, 6),
    regular_window_days=st.integers(30, 400),
    regular_requires_guide=st.booleans(),
    super_min_purchases=st.integers(2, 12),
    super_window_days=st.integers(30, 730),
    super_min_spend_fen=st.integers(0, 1_000_000),
    super_min_referrals=st.integers(0, 3),
    demote_after_inactive_days=st.integers(30, 800),
)
standing_st = st.builds(
    CustomerStanding,
    is_member=st.just(True),
    purchase_days=st.lists(st.integers(0, 900), max_size=15).map(
        lambda ds: tuple(TODAY - timedelta(days=d) for d in ds)
    ),
    lifetime_spend_fen=st.integers(0, 2_000_000),
    referrals=st.integers(0, 5),
    has_guide=st.booleans(),
)


def _days_ago(*ds: int) -> tuple[date, ...]:
    return tuple(TODAY - timedelta(days=d) for d in ds)


@settings(max_examples=200)
@given(standing_st, rules_st)
def test_a_non_member_is_always_a_walk_in_offered_the_mini_program(
    standing: CustomerStanding, rules: LadderRules
) -> None:
    walk_in = CustomerStanding(
        False, standing.purchase_days, standing.lifetime_spend_fen, standing.referrals, True
    )
    result = assess(walk_in, rules, TODAY)
    assert result.rung is Rung.WALK_IN
    assert result.next_step.channel is Channel.MINI_PROGRAM
    assert result.next_step.target is Rung.MEMBER


@settings(max_examples=300)
@given(standing_st, rules_st, st.integers(0, 3), st.integers(0, 500_000), st.integers(0, 2))
def test_more_purchases_spend_or_referrals_never_lower_the_rung(
    standing: CustomerStanding, rules: LadderRules, extra: int, spend: int, refs: int
) -> None:
    assume(
        standing.purchase_days
    )  # a member with history: adding a recent purchase can't lapse them
    better = CustomerStanding(
        True,
        standing.purchase_days + (TODAY,) * extra,
        standing.lifetime_spend_fen + spend,
        standing.referrals + refs,
        standing.has_guide,
    )
    assert assess(better, rules, TODAY).rung.level >= assess(standing, rules, TODAY).rung.level


@settings(max_examples=300)
@given(standing_st, rules_st)
def test_a_lapsed_member_is_only_a_member(standing: CustomerStanding, rules: LadderRules) -> None:
    assume(standing.purchase_days)
    last = max(standing.purchase_days)
    assume((TODAY - last).days > rules.demote_after_inactive_days)
    result = assess(standing, rules, TODAY)
    assert result.rung is Rung.MEMBER
    assert result.next_step.reason == "win_back"


@settings(max_examples=100)
@given(rules_st)
def test_rules_round_trip_as_data(rules: LadderRules) -> None:
    assert LadderRules.from_dict(rules.to_dict()) == rules
    assert LadderRules.from_dict({**rules.to_dict(), "from_a_newer_hq": 1}) == rules


def test_negative_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="regular_min_purchases"):
        LadderRules(regular_min_purchases=-1)


@pytest.mark.parametrize(
    ("standing", "rung", "channel", "guide", "referral"),
    [
        (CustomerStanding(True), Rung.MEMBER, Channel.MICRO_MALL, True, False),
        # one purchase short of regular
        (CustomerStanding(True, _days_ago(3), 5_000, 0, True), Rung.MEMBER, Channel.MICRO_MALL, False, False),
        # exactly two purchases inside 180 days, with a guide
        (CustomerStanding(True, _days_ago(3, 179), 5_000, 0, True), Rung.REGULAR, Channel.MICRO_MALL, True, True),
        # the second purchase falls one day outside the window
        (CustomerStanding(True, _days_ago(3, 180), 5_000, 0, True), Rung.MEMBER, Channel.MICRO_MALL, False, False),
        # enough purchases but no guide
        (CustomerStanding(True, _days_ago(3, 10), 5_000, 0, False), Rung.MEMBER, Channel.MICRO_MALL, True, False),
        # six purchases, 3000 yuan, one referral: super-member
        (
            CustomerStanding(True, _days_ago(1, 20, 40, 60, 80, 300), 300_000, 1, True),
            Rung.SUPER_MEMBER, Channel.APP, False, True,
        ),
        # one fen short of super-member spend
        (
            CustomerStanding(True, _days_ago(1, 20, 40, 60, 80, 300), 299_999, 1, True),
            Rung.REGULAR, Channel.MICRO_MALL, True, False,
        ),
        # no referral yet
        (
            CustomerStanding(True, _days_ago(1, 20, 40, 60, 80, 300), 300_000, 0, True),
            Rung.REGULAR, Channel.MICRO_MALL, True, True,
        ),
        # lapsed: last visit 366 days ago
        (CustomerStanding(True, _days_ago(366, 370), 900_000, 3, True), Rung.MEMBER, Channel.MICRO_MALL, False, False),
    ],
)  # fmt: skip
def test_thresholds_at_their_boundaries(
    standing: CustomerStanding, rung: Rung, channel: Channel, guide: bool, referral: bool
) -> None:
    result = assess(standing, RULES, TODAY)
    assert result.rung is rung
    assert result.next_step.channel is channel
    assert result.next_step.offer_guide is guide
    assert result.next_step.offer_referral is referral


def test_hq_rules_change_the_outcome() -> None:
    standing = CustomerStanding(True, _days_ago(3, 10), 5_000, 0, False)
    assert assess(standing, RULES, TODAY).rung is Rung.MEMBER
    relaxed = LadderRules(regular_requires_guide=False)
    assert assess(standing, relaxed, TODAY).rung is Rung.REGULAR
