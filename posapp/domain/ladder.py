"""The relationship ladder: walk-in → member → regular → super-member.

Thresholds are data (HQ replaces the defaults); :func:`assess` is the one pure
function that says where a customer stands and what to offer them next.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any


class Rung(StrEnum):
    WALK_IN = "walk_in"
    MEMBER = "member"
    REGULAR = "regular"
    SUPER_MEMBER = "super_member"

    @property
    def level(self) -> int:
        return _ORDER.index(self)


MAX_RULE_DAYS = 36_500  # a hundred years; longer windows overflow date arithmetic


_ORDER = [Rung.WALK_IN, Rung.MEMBER, Rung.REGULAR, Rung.SUPER_MEMBER]


class Channel(StrEnum):
    """Where a QR leads. ``GUIDE_CONTACT`` is the member's own guide's WeCom contact (a regular's
    step towards a personal relationship)."""

    MINI_PROGRAM = "mini_program"
    MICRO_MALL = "micro_mall"
    APP = "app"
    GUIDE_CONTACT = "guide_contact"


@dataclass(frozen=True, slots=True)
class LadderRules:
    """Thresholds that move a customer between rungs; HQ sends its own, these are defaults."""

    regular_min_purchases: int = 2
    regular_window_days: int = 180
    regular_requires_guide: bool = True
    super_min_purchases: int = 6
    super_window_days: int = 365
    super_min_spend_fen: int = 300_000
    super_min_referrals: int = 1
    demote_after_inactive_days: int = 365

    def __post_init__(self) -> None:
        # Rules arrive as JSON from HQ's admin: refuse wrong types here, or every assess()
        # on every device fails later (TypeError on "2", OverflowError on a huge window).
        for name, spec in self.__dataclass_fields__.items():
            value = getattr(self, name)
            if isinstance(spec.default, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"ladder rule {name} must be true or false")
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"ladder rule {name} must be a whole number")
            if value < 0:
                raise ValueError(f"ladder rule {name} must not be negative")
            if name.endswith("_days") and value > MAX_RULE_DAYS:
                raise ValueError(f"ladder rule {name} must be at most {MAX_RULE_DAYS} days")

    @property
    def longest_window_days(self) -> int:
        return max(self.regular_window_days, self.super_window_days)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LadderRules:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True, slots=True)
class CustomerStanding:
    """What the ladder needs to know of one customer, as of ``today``."""

    is_member: bool
    purchase_days: tuple[date, ...] = ()
    lifetime_spend_fen: int = 0
    referrals: int = 0
    has_guide: bool = False


@dataclass(frozen=True, slots=True)
class NextStep:
    """What to offer next: the QR's channel, and whether to introduce a guide or a referral QR."""

    target: Rung | None
    channel: Channel
    offer_guide: bool = False
    offer_referral: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Assessment:
    rung: Rung
    next_step: NextStep
    reasons: tuple[str, ...] = field(default=())


def _purchases_within(days: tuple[date, ...], today: date, window: int) -> int:
    start = today - timedelta(days=window)
    return sum(1 for d in days if start < d <= today)


def assess(standing: CustomerStanding, rules: LadderRules, today: date) -> Assessment:
    """Place a customer on the ladder and name the next step; pure and deterministic."""
    if not standing.is_member:
        return Assessment(
            Rung.WALK_IN,
            NextStep(Rung.MEMBER, Channel.MINI_PROGRAM, reason="join_via_mini_program"),
        )
    last = max(standing.purchase_days, default=None)
    lapsed = last is not None and (today - last).days > rules.demote_after_inactive_days
    # Never having bought is no purchase in the window either: with a zero threshold such a
    # member would otherwise rank above one who bought once, long ago (non-monotone).
    active = last is not None and not lapsed
    in_super = _purchases_within(standing.purchase_days, today, rules.super_window_days)
    in_regular = _purchases_within(standing.purchase_days, today, rules.regular_window_days)
    guide_ok = standing.has_guide or not rules.regular_requires_guide

    is_super = (
        active
        and in_super >= rules.super_min_purchases
        and standing.lifetime_spend_fen >= rules.super_min_spend_fen
        and standing.referrals >= rules.super_min_referrals
    )
    if is_super:
        return Assessment(
            Rung.SUPER_MEMBER,
            NextStep(None, Channel.APP, offer_referral=True, reason="refer_friends_via_app"),
        )
    if active and in_regular >= rules.regular_min_purchases and guide_ok:
        missing = []
        if in_super < rules.super_min_purchases:
            missing.append("purchases")
        if standing.lifetime_spend_fen < rules.super_min_spend_fen:
            missing.append("spend")
        if standing.referrals < rules.super_min_referrals:
            missing.append("referrals")
        return Assessment(
            Rung.REGULAR,
            NextStep(
                Rung.SUPER_MEMBER,
                Channel.MICRO_MALL,
                offer_guide=True,
                offer_referral=standing.referrals < rules.super_min_referrals,
                reason="grow_to_super_member",
            ),
            tuple(missing),
        )
    reasons: tuple[str, ...] = ("lapsed",) if lapsed else ()
    if active and in_regular >= rules.regular_min_purchases and not guide_ok:
        reasons = ("needs_guide",)
    return Assessment(
        Rung.MEMBER,
        NextStep(
            Rung.REGULAR,
            Channel.MICRO_MALL,
            offer_guide=not standing.has_guide,
            reason="win_back" if lapsed else "rebuy_via_micro_mall",
        ),
        reasons,
    )


class MoveReason(StrEnum):
    """Why a customer's rung changed: what HQ records with each rung change."""

    ENROLLED = "enrolled"  # their first rung, from walk-in
    CONSENT = "consent"  # membership consent granted again, or withdrawn
    GUIDE_ASSIGNED = "guide_assigned"
    GUIDE_REMOVED = "guide_removed"
    REFERRAL = "referral"
    PURCHASES = "purchases"  # a sale (or its credit), or purchases ageing out of a window
    LAPSED = "lapsed"  # no purchase for longer than the rules allow
    RULES = "rules"  # HQ changed the ladder's thresholds


def move_reason(
    old: Rung,
    new: Rung,
    before: CustomerStanding | None,
    after: CustomerStanding,
    rules: LadderRules,
    today: date,
    *,
    rules_changed: bool = False,
) -> MoveReason:
    """Why a customer moved from ``old`` to ``new``; pure.

    ``before``: their standing when ``old`` was assessed (None: no rung was assessed before,
    their first); only the latest of its ``purchase_days`` is looked at. The reason is the
    first factor (consent, guide, referrals) whose value from ``before``, put back alone,
    undoes the move; else the first that changed at all; then the rules, a lapse, and time
    (purchases leaving a window)."""
    if before is None:
        return MoveReason.ENROLLED
    factors = (
        ("is_member", MoveReason.CONSENT),
        ("has_guide", None),
        ("referrals", MoveReason.REFERRAL),
    )
    changed = [
        (name, why) for name, why in factors if getattr(before, name) != getattr(after, name)
    ]

    def named(name: str, why: MoveReason | None) -> MoveReason:
        if why is not None:
            return why
        return MoveReason.GUIDE_ASSIGNED if after.has_guide else MoveReason.GUIDE_REMOVED

    for name, why in changed:
        undone = replace(after, **{name: getattr(before, name)})
        if assess(undone, rules, today).rung == old:
            return named(name, why)
    bought = before.lifetime_spend_fen != after.lifetime_spend_fen or max(
        before.purchase_days, default=None
    ) != max(after.purchase_days, default=None)
    if changed and not bought:
        return named(*changed[0])
    if bought:
        return MoveReason.PURCHASES
    if rules_changed:
        return MoveReason.RULES
    if new.level < old.level and "lapsed" in assess(after, rules, today).reasons:
        return MoveReason.LAPSED
    return MoveReason.PURCHASES
