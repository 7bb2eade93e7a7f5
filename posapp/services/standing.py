"""Where a member stands: their consents and their rung, recomputed from the facts."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from posapp.domain.consent import Purpose
from posapp.domain.ladder import Assessment, CustomerStanding, LadderRules, assess
from posapp.store.lookup import Ledger, Lookup, MemberHistory, MemberRow

DEFAULT_RULES = LadderRules()


@lru_cache(maxsize=8)
def _parse_rules(body: str) -> LadderRules:
    return LadderRules.from_dict(json.loads(body))


def ladder_rules(lookup: Lookup) -> LadderRules:
    """HQ's ladder thresholds, or the defaults until HQ has sent its own."""
    body = lookup.rule_set("ladder")
    return _parse_rules(body) if body else DEFAULT_RULES


def consents_from(decisions: list[tuple[str, bool]]) -> dict[Purpose, bool]:
    """The latest decision per purpose; a purpose never asked about counts as not granted."""
    state = dict.fromkeys(Purpose, False)
    for purpose, granted in decisions:
        state[Purpose(purpose)] = granted
    return state


def current_consents(lookup: Lookup, member_id: str) -> dict[Purpose, bool]:
    return consents_from(lookup.consent_decisions(member_id))


def standing_from(row: MemberRow, history: MemberHistory, *, is_member: bool) -> CustomerStanding:
    days = tuple(t.date() for t in history.recent_purchases)
    if not days and history.last_purchase is not None:
        days = (history.last_purchase.date(),)  # lets the ladder see a lapsed member
    return CustomerStanding(
        is_member=is_member,
        purchase_days=days,
        lifetime_spend_fen=row.lifetime_spend_fen,
        referrals=row.referrals,
        has_guide=row.guide_id is not None,
    )


def assess_member(
    lookup: Lookup, row: MemberRow, *, today: date
) -> tuple[Assessment, dict[Purpose, bool]]:
    """Place a member on the ladder from what the database says now."""
    rules = ladder_rules(lookup)
    since = datetime.combine(today - timedelta(days=rules.longest_window_days), datetime.min.time())
    history = lookup.history(row.id, since)
    consents = consents_from(history.consents)
    standing = standing_from(row, history, is_member=consents[Purpose.MEMBERSHIP])
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
