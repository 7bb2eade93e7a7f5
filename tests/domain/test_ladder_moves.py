"""Why a rung changed: ``move_reason`` names the fact that moved the customer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from posapp.domain.ladder import CustomerStanding, LadderRules, MoveReason, Rung, move_reason

TODAY = date(2026, 11, 25)
RULES = LadderRules()
RECENT = (TODAY - timedelta(days=30), TODAY - timedelta(days=2))
REGULAR = CustomerStanding(is_member=True, purchase_days=RECENT, lifetime_spend_fen=20_000,
                           has_guide=True)  # fmt: skip


def _why(old: Rung, new: Rung, before: CustomerStanding | None, after: CustomerStanding,
         **kw: bool) -> MoveReason:  # fmt: skip
    return move_reason(old, new, before, after, RULES, TODAY, **kw)


def test_the_first_rung_is_the_enrolment() -> None:
    assert _why(Rung.WALK_IN, Rung.MEMBER, None, REGULAR) is MoveReason.ENROLLED


def test_a_second_purchase_with_a_guide_is_purchases() -> None:
    before = replace(REGULAR, purchase_days=RECENT[:1], lifetime_spend_fen=10_000)
    assert _why(Rung.MEMBER, Rung.REGULAR, before, REGULAR) is MoveReason.PURCHASES


def test_a_guide_assigned_to_a_repeat_buyer_makes_a_regular() -> None:
    before = replace(REGULAR, has_guide=False)
    assert _why(Rung.MEMBER, Rung.REGULAR, before, REGULAR) is MoveReason.GUIDE_ASSIGNED
    assert _why(Rung.REGULAR, Rung.MEMBER, REGULAR, before) is MoveReason.GUIDE_REMOVED


def test_withdrawn_membership_consent_is_consent() -> None:
    after = replace(REGULAR, is_member=False)
    assert _why(Rung.REGULAR, Rung.WALK_IN, REGULAR, after) is MoveReason.CONSENT


def test_a_referral_that_completes_a_super_member_is_referral() -> None:
    days = tuple(TODAY - timedelta(days=d) for d in range(1, 7))
    before = CustomerStanding(is_member=True, purchase_days=days, lifetime_spend_fen=400_000,
                              has_guide=True)  # fmt: skip
    after = replace(before, referrals=1)
    assert _why(Rung.REGULAR, Rung.SUPER_MEMBER, before, after) is MoveReason.REFERRAL


def test_no_visit_for_longer_than_the_rules_allow_is_lapsed() -> None:
    long_ago = (TODAY - timedelta(days=400),)
    stale = replace(REGULAR, purchase_days=long_ago)
    assert _why(Rung.REGULAR, Rung.MEMBER, stale, stale) is MoveReason.LAPSED


def test_purchases_leaving_the_window_is_purchases_and_new_rules_are_rules() -> None:
    aged = replace(REGULAR, purchase_days=(TODAY - timedelta(days=200),))
    assert _why(Rung.REGULAR, Rung.MEMBER, aged, aged) is MoveReason.PURCHASES
    assert _why(Rung.REGULAR, Rung.MEMBER, aged, aged, rules_changed=True) is MoveReason.RULES
