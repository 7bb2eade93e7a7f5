"""Where a member stands: their consents and their rung, recomputed from the facts."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from posapp.domain.consent import Purpose
from posapp.domain.ladder import Assessment, CustomerStanding, LadderRules, assess
from posapp.store.lookup import Ledger, Lookup, MemberRow

DEFAULT_RULES = LadderRules()


@lru_cache(maxsize=8)
def _parse_rules(body: str) -> LadderRules:
    return LadderRules.from_dict(json.loads(body))


def ladder_rules(lookup: Lookup) -> LadderRules:
    """HQ's ladder thresholds, or the defaults until HQ has sent its own."""
    body = lookup.rule_set("ladder")
    return _parse_rules(body) if body else DEFAULT_RULES


def current_consents(lookup: Lookup, member_id: str) -> dict[Purpose, bool]:
    """The latest decision per purpose; a purpose never asked about counts as not granted."""
    state = dict.fromkeys(Purpose, False)
    for purpose, granted in lookup.consent_decisions(member_id):
        state[Purpose(purpose)] = granted
    return state


def standing_of(
    lookup: Lookup,
    member_id: str,
    *,
    rules: LadderRules,
    today: date,
    is_member: bool,
    lifetime_spend_fen: int,
    referrals: int,
    has_guide: bool,
) -> CustomerStanding:
    since = datetime.combine(today - timedelta(days=rules.longest_window_days), datetime.min.time())
    days = tuple(t.date() for t in lookup.purchase_times_since(member_id, since))
    if not days:
        last = lookup.last_purchase_time(member_id)
        days = (last.date(),) if last else ()
    return CustomerStanding(
        is_member=is_member,
        purchase_days=days,
        lifetime_spend_fen=lifetime_spend_fen,
        referrals=referrals,
        has_guide=has_guide,
    )


def assess_member(
    lookup: Lookup, row: MemberRow, *, today: date
) -> tuple[Assessment, dict[Purpose, bool]]:
    """Place a member on the ladder from what the database says now."""
    member_id = row.id
    consents = current_consents(lookup, member_id)
    rules = ladder_rules(lookup)
    standing = standing_of(
        lookup,
        member_id,
        rules=rules,
        today=today,
        is_member=consents[Purpose.MEMBERSHIP],
        lifetime_spend_fen=row.lifetime_spend_fen,
        referrals=row.referrals,
        has_guide=row.guide_id is not None,
    )
    return assess(standing, rules, today), consents


def reassess(session: Session, member_id: str, *, now: datetime) -> Assessment:
    """Re-place a member on the ladder after a sale or consent change, and store the rung."""
    session.flush()  # ORM-added consent rows must be visible to the plain-SQL reads below
    ledger = Ledger.within(session)
    row = ledger.member_by_id(member_id)
    if row is None:
        raise LookupError(member_id)
    result, _ = assess_member(ledger, row, today=now.date())
    if result.rung.value != row.rung:
        ledger.set_rung(member_id, result.rung.value, now)
    return result
