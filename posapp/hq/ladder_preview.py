"""How many members would stand on each rung under other ladder thresholds, today: exactly
what ``members.recompute_members`` would make of every member with those rules.

SQL only gathers each member's facts, each cut down to what the rules can tell apart (a
purchase count capped at its threshold, spend and referrals against theirs), and counts the
members per combination; :func:`posapp.domain.ladder.assess` — the one place the ladder's
rule lives — then places one made-up customer with exactly those facts per combination. So
a million members cost one aggregate query and a few dozen ``assess`` calls.

What recompute reads, and so what is gathered here: the member's latest membership consent
(the highest id), their purchases within each window (by calendar day, today included, a
day dated after today in none), lifetime spend, referrals, guide, and their last purchase
(recompute's own fallback to ``last_visit_at`` keeps the last purchase in the picture when
none is within the windows): lapsed when longer ago than ``demote_after_inactive_days``.
Lifetime spend and the last purchase are the member's stored figures — recompute's own,
written whenever a sale is credited (``members.settle_members``), and not a matter of
today — so only the windows' sales are read, from the member-and-time index: at 1,000,000
members and 5,000,000 sales on SQLite 33 s became a few.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from posapp.domain.consent import Purpose
from posapp.domain.ladder import CustomerStanding, LadderRules, Rung, assess
from posapp.hq.models import Consent, Member, MemberStore, Sale

# Thresholds go to SQL as parameters: one beyond any count or spend a database holds (and
# beyond SQLite's 64-bit integers) compares as this does, so it is cut down to it.
_SQL_MAX = 2**62


@dataclass(frozen=True, slots=True)
class Facts:
    """What the ladder can tell apart of one member under one set of rules."""

    is_member: bool
    bought: bool  # any purchase at all
    lapsed: bool  # the last purchase longer ago than demote_after_inactive_days
    in_regular: int  # purchases within regular_window_days, at most regular_min_purchases
    in_super: int  # purchases within super_window_days, at most super_min_purchases
    spend_ok: bool  # lifetime spend >= super_min_spend_fen
    referrals_ok: bool  # referrals >= super_min_referrals
    has_guide: bool


@dataclass(frozen=True, slots=True)
class PreviewRow:
    rung: str
    now: int
    then: int

    @property
    def difference(self) -> int:
        return self.then - self.now


@dataclass(frozen=True, slots=True)
class LadderPreview:
    """Members per rung now (their stored rung) and with the previewed thresholds."""

    now: dict[str, int]
    then: dict[str, int]

    @property
    def rows(self) -> list[PreviewRow]:
        """Every rung, lowest first (then any other stored rung value), with both counts."""
        known = [r.value for r in Rung]
        names = known + sorted((set(self.now) | set(self.then)) - set(known))
        return [PreviewRow(n, self.now.get(n, 0), self.then.get(n, 0)) for n in names]

    @property
    def total(self) -> int:
        return sum(self.then.values())


def preview_ladder(
    session: Session, rules: LadderRules, *, now: datetime, store_ids: list[str] | None
) -> LadderPreview:
    """Non-erased members per rung under ``rules`` as of ``now``, beside their rungs now;
    ``store_ids``: only members held by one of these stores (None: every member)."""
    today = now.date()
    then: dict[str, int] = {}
    for facts, count in member_facts(session, rules, now=now, store_ids=store_ids):
        rung = assess(standing_of(facts, rules, today), rules, today).rung.value
        then[rung] = then.get(rung, 0) + count
    current = select(Member.rung, func.count()).where(*_scope(store_ids)).group_by(Member.rung)
    return LadderPreview(now={r: n for r, n in session.execute(current)}, then=then)


def _scope(store_ids: list[str] | None) -> list[Any]:
    where: list[Any] = [Member.erased_at.is_(None)]
    if store_ids is not None:
        held = select(MemberStore.member_id).where(MemberStore.store_id.in_(store_ids))
        where.append(Member.id.in_(held))
    return where


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


def member_facts(
    session: Session, rules: LadderRules, *, now: datetime, store_ids: list[str] | None
) -> list[tuple[Facts, int]]:
    """Each distinct combination of facts among the members in scope, with how many have it."""
    today = now.date()
    until = _midnight(today + timedelta(days=1))  # purchases dated after today count nowhere

    def within(days: int) -> Any:  # on a day in (today - days, today], as assess counts
        since = _midnight(today - timedelta(days=days) + timedelta(days=1))
        return case((and_(Sale.occurred_at >= since, Sale.occurred_at < until), 1), else_=0)

    def capped(column: Any, threshold: int) -> Any:
        top = min(threshold, _SQL_MAX)
        return case((func.coalesce(column, 0) >= top, top), else_=func.coalesce(column, 0))

    def flag(condition: Any) -> Any:
        return case((condition, 1), else_=0)

    longest = _midnight(today - timedelta(days=rules.longest_window_days) + timedelta(days=1))
    sales = (
        select(
            Sale.member_id.label("member_id"),
            func.sum(within(rules.regular_window_days)).label("in_regular"),
            func.sum(within(rules.super_window_days)).label("in_super"),
        )
        .where(Sale.member_id.is_not(None), Sale.occurred_at >= longest)
        .group_by(Sale.member_id)
        .subquery("sales")
    )
    # The latest membership consent's answer without joining back to it: ids are unique, so
    # the greatest of id * 2 + granted is the latest consent's, and its parity its answer.
    latest = (
        select(
            Consent.member_id.label("member_id"),
            func.max(Consent.id * 2 + case((Consent.granted, 1), else_=0)).label("mark"),
        )
        .where(Consent.purpose == Purpose.MEMBERSHIP.value)
        .group_by(Consent.member_id)
        .subquery("latest")
    )
    lapsed_before = _midnight(today - timedelta(days=rules.demote_after_inactive_days))
    per_member = (
        select(
            flag(latest.c.mark % 2 == 1).label("is_member"),
            flag(Member.last_visit_at.is_not(None)).label("bought"),
            flag(Member.last_visit_at < lapsed_before).label("lapsed"),
            capped(sales.c.in_regular, rules.regular_min_purchases).label("in_regular"),
            capped(sales.c.in_super, rules.super_min_purchases).label("in_super"),
            flag(Member.lifetime_spend_fen >= min(rules.super_min_spend_fen, _SQL_MAX))
            .label("spend_ok"),
            flag(Member.referrals >= min(rules.super_min_referrals, _SQL_MAX)).label("referrals_ok"),
            flag(Member.guide_id.is_not(None)).label("has_guide"),
        )
        .select_from(Member)
        .outerjoin(sales, sales.c.member_id == Member.id)
        .outerjoin(latest, latest.c.member_id == Member.id)
        .where(*_scope(store_ids))
        .subquery("facts")
    )  # fmt: skip
    # Grouped by the subquery's columns, not its expressions: PostgreSQL would not see two
    # copies of an expression with parameters as the same one.
    columns = list(per_member.c)
    grouped = select(*columns, func.count().label("n")).group_by(*columns)
    return [
        (
            Facts(
                is_member=bool(r.is_member), bought=bool(r.bought), lapsed=bool(r.lapsed),
                in_regular=int(r.in_regular), in_super=int(r.in_super),
                spend_ok=bool(r.spend_ok), referrals_ok=bool(r.referrals_ok),
                has_guide=bool(r.has_guide),
            ),
            int(r.n),
        )
        for r in session.execute(grouped)
    ]  # fmt: skip


def _placed(inner: int, inner_min: int, outer: int, outer_min: int) -> tuple[int, int]:
    """Purchases to place in the shorter window and in the longer one only, so that the
    counts, capped at their thresholds, are ``inner`` and ``outer`` again (the shorter
    window lies within the longer: a purchase in it is in both)."""
    if inner < inner_min:  # the shorter window's count is exact
        if outer < outer_min:
            return inner, outer - inner
        return inner, max(0, outer_min - inner)
    if outer < outer_min:  # the longer window's count is exact, and no less than the shorter's
        return outer, 0
    return max(inner_min, outer_min), 0


def standing_of(facts: Facts, rules: LadderRules, today: date) -> CustomerStanding:
    """A customer with exactly ``facts`` under ``rules`` as of ``today``.

    Purchases in the shorter window fall on its latest day, those in the longer one only on
    the shorter's first day outside it; a lapsed member's all on or before the last day that
    is still lapsed. A member who bought but has no such purchase gets one the ladder counts
    in no window: after today (active) or before both windows and the demotion (lapsed).
    """
    spend = rules.super_min_spend_fen - (0 if facts.spend_ok else 1)
    referrals = rules.super_min_referrals - (0 if facts.referrals_ok else 1)
    days: list[date] = []
    if facts.bought:
        regular_inside = rules.regular_window_days <= rules.super_window_days
        if regular_inside:
            short_days = rules.regular_window_days
            long_days = rules.super_window_days
            short, extra = _placed(facts.in_regular, rules.regular_min_purchases,
                                   facts.in_super, rules.super_min_purchases)  # fmt: skip
        else:
            short_days = rules.super_window_days
            long_days = rules.regular_window_days
            short, extra = _placed(facts.in_super, rules.super_min_purchases,
                                   facts.in_regular, rules.regular_min_purchases)  # fmt: skip
        outside_short = today - timedelta(days=short_days)
        if facts.lapsed:
            last_lapsed = today - timedelta(days=rules.demote_after_inactive_days + 1)
            days = [last_lapsed] * short + [min(last_lapsed, outside_short)] * extra
            if not days:
                days = [
                    today - timedelta(days=max(long_days, rules.demote_after_inactive_days + 1))
                ]
        else:
            days = [today] * short + [outside_short] * extra
            if not short:
                days.append(today + timedelta(days=1))
    return CustomerStanding(
        is_member=facts.is_member,
        purchase_days=tuple(days),
        lifetime_spend_fen=spend,
        referrals=referrals,
        has_guide=facts.has_guide,
    )
