"""HQ's derived member state: what a member's facts add up to, and telling the stores.

A member's visits, spend, last visit and rung are never edited, only derived again from all
of their sales and consents; whoever changes a member's facts (a store's events, an
administrator's assignment, a redeemed invite) ends with ``settle_members``, so every store
that holds the member receives the same, freshly derived member.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from posapp.domain.consent import Purpose
from posapp.domain.ladder import CustomerStanding, LadderRules, Rung, assess, move_reason
from posapp.hq.db import bulk_insert
from posapp.hq.feed import Pending, chunks, emit, member_changes
from posapp.hq.models import Consent, Event, InviteRecord, Member, RuleSet, RungChange, Sale


def ladder_rules(session: Session) -> LadderRules:
    body = session.scalar(select(RuleSet.body).where(RuleSet.kind == "ladder"))
    return LadderRules.from_dict(json.loads(body)) if body else LadderRules()


def _rules_key(rules: LadderRules) -> str:
    return hashlib.sha256(json.dumps(rules.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def standing_text(standing: CustomerStanding, rules_key: str) -> str:
    """What ``member.standing`` keeps of an assessment: the latest purchase day only."""
    last = max(standing.purchase_days, default=None)
    return json.dumps(
        {"member": standing.is_member, "guide": standing.has_guide,
         "referrals": standing.referrals, "spend": standing.lifetime_spend_fen,
         "last": last.isoformat() if last else None, "rules": rules_key},
        separators=(",", ":"), sort_keys=True,
    )  # fmt: skip


def standing_of(text: str | None) -> tuple[CustomerStanding | None, str | None]:
    """``member.standing`` read back: the standing and the rules' fingerprint (None: none)."""
    if not text:
        return None, None
    data = json.loads(text)
    last = data.get("last")
    return CustomerStanding(
        is_member=bool(data["member"]),
        purchase_days=(date.fromisoformat(last),) if last else (),
        lifetime_spend_fen=int(data["spend"]),
        referrals=int(data["referrals"]),
        has_guide=bool(data["guide"]),
    ), data.get("rules")


def settle_members(
    session: Session,
    member_ids: set[str],
    *,
    now: datetime,
    before: Iterable[Pending] = (),
    after: Iterable[Pending] = (),
) -> None:
    """Recompute the members from their facts, then announce them to the stores that hold them.

    ``before``: changes a store must see before the members (a merge, a rejection);
    ``after``: changes that name a member the store must already know (a credited sale).
    """
    recompute_members(session, member_ids, now=now)
    session.flush()
    emit(session, [*before, *member_changes(session, sorted(member_ids)), *after], now=now)


def recompute_members(session: Session, member_ids: set[str], *, now: datetime) -> None:
    """Visits, spend, last visit and rung, derived again from all of each member's sales;
    each change of rung is recorded (``rung_change``) with the reason the ladder gives."""
    if not member_ids:
        return
    session.flush()
    rules = ladder_rules(session)
    rules_key = _rules_key(rules)
    today = now.date()
    moves: list[dict[str, object]] = []
    since = now - timedelta(days=rules.longest_window_days)
    for part in chunks(sorted(member_ids)):
        totals = {
            r.member_id: r
            for r in session.execute(
                select(
                    Sale.member_id,
                    func.count().label("visits"),
                    func.coalesce(func.sum(Sale.amount_fen), 0).label("spend"),
                    func.max(Sale.occurred_at).label("last"),
                )
                .where(Sale.member_id.in_(part))
                .group_by(Sale.member_id)
            )
        }
        days: dict[str, list[datetime]] = {m: [] for m in part}
        for r in session.execute(
            select(Sale.member_id, Sale.occurred_at).where(
                Sale.member_id.in_(part), Sale.occurred_at >= since
            )
        ):
            days[r.member_id].append(r.occurred_at)
        membership: dict[str, bool] = {}
        for r in session.execute(
            select(Consent.member_id, Consent.granted)
            .where(Consent.member_id.in_(part), Consent.purpose == Purpose.MEMBERSHIP.value)
            .order_by(Consent.id)
        ):
            membership[r.member_id] = r.granted
        for member in session.scalars(select(Member).where(Member.id.in_(part))):
            total = totals.get(member.id)
            member.visit_count = total.visits if total else 0
            member.lifetime_spend_fen = int(total.spend) if total else 0
            member.last_visit_at = total.last if total else None
            recent = tuple(d.date() for d in days[member.id])
            if not recent and member.last_visit_at:
                recent = (member.last_visit_at.date(),)
            standing = CustomerStanding(
                is_member=membership.get(member.id, False),
                purchase_days=recent,
                lifetime_spend_fen=member.lifetime_spend_fen,
                referrals=member.referrals,
                has_guide=member.guide_id is not None,
            )
            new = assess(standing, rules, today).rung
            before, before_rules = standing_of(member.standing)
            old = Rung(member.rung) if before is not None else Rung.WALK_IN
            if new != old and member.erased_at is None:  # an erased member's history is gone
                why = move_reason(old, new, before, standing, rules, today,
                                  rules_changed=before_rules != rules_key)  # fmt: skip
                moves.append({"member_id": member.id, "at": now, "from_rung": old.value,
                              "to_rung": new.value, "reason": why.value})  # fmt: skip
            member.rung = new.value
            member.standing = standing_text(standing, rules_key)
            member.updated_at = now
    if moves:
        session.flush()
        bulk_insert(session, RungChange.__table__, moves)


def credit_sale(session: Session, *, token: str, member_id: str) -> bool:
    """Give the invite's sale to the member who redeemed it, whichever of the two HQ heard first."""
    record = session.get(InviteRecord, token)
    if record is None or record.purchase_id is None:
        return False
    result = session.execute(
        update(Sale)
        .where(
            Sale.purchase_id == record.purchase_id,
            Sale.store_id == record.store_id,  # a sale is credited only within its own store
            Sale.member_id.is_(None),
        )
        .values(member_id=member_id, member_local_id=None)
    )
    return bool(result.rowcount)


def sale_credited(session: Session, *, token: str) -> list[Pending]:
    """The change that tells the sale's store whose it now is (after the member's own change,
    so the counter knows the member when it links the sale)."""
    record = session.get(InviteRecord, token)
    if record is None or record.purchase_id is None:
        return []
    sale = session.get(Sale, record.purchase_id)
    if sale is None or sale.member_id is None:
        return []
    return [Pending(sale.store_id, "sale.member", sale.purchase_id, {"member_id": sale.member_id})]


def forget_code_references(session: Session, codes: list[str]) -> None:
    """An erased member's codes stay nowhere a store's sale named them offline: neither on
    a sale still waiting for them nor in the sale's fact in the event log."""
    codes = sorted({c for c in codes if c})
    if not codes:
        return
    session.execute(
        update(Sale).where(Sale.member_code_ref.in_(codes)).values(member_code_ref=None)
    )
    mentions = [Event.payload.contains(f'"member_code_ref":"{c}"', autoescape=True) for c in codes]
    for event in session.scalars(
        select(Event).where(Event.type == "sale.recorded", or_(*mentions))
    ):
        payload = json.loads(event.payload)
        payload["member_code_ref"] = None
        event.payload = json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                   separators=(",", ":"))  # fmt: skip
