"""Where a member stands: their consents and their rung, recomputed from the facts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from posapp.domain.consent import Purpose
from posapp.domain.ladder import Assessment, CustomerStanding, LadderRules, assess
from posapp.services.common import ladder_rules
from posapp.store.models import ConsentRecord, Member, Purchase


def current_consents(session: Session, member_id: str) -> dict[Purpose, bool]:
    """The latest decision per purpose; a purpose never asked about counts as not granted."""
    rows = session.execute(
        select(ConsentRecord.purpose, ConsentRecord.granted)
        .where(ConsentRecord.member_id == member_id)
        .order_by(ConsentRecord.id)
    )
    state = dict.fromkeys(Purpose, False)
    for purpose, granted in rows:
        state[Purpose(purpose)] = bool(granted)
    return state


def standing_of(
    session: Session, member_id: str, *, rules: LadderRules, today: date, is_member: bool
) -> CustomerStanding:
    since = datetime.combine(today - timedelta(days=rules.longest_window_days), datetime.min.time())
    days = session.scalars(
        select(Purchase.occurred_at).where(
            Purchase.member_id == member_id, Purchase.occurred_at >= since
        )
    ).all()
    row = session.execute(
        select(Member.lifetime_spend_fen, Member.referrals, Member.guide_id).where(
            Member.id == member_id
        )
    ).one()
    last = session.scalar(
        select(func.max(Purchase.occurred_at)).where(Purchase.member_id == member_id)
    )
    purchase_days = tuple(d.date() for d in days)
    if last is not None and not purchase_days:
        purchase_days = (last.date(),)
    return CustomerStanding(
        is_member=is_member,
        purchase_days=purchase_days,
        lifetime_spend_fen=row.lifetime_spend_fen,
        referrals=row.referrals,
        has_guide=row.guide_id is not None,
    )


def reassess(session: Session, member_id: str, *, now: datetime) -> Assessment:
    """Re-place a member on the ladder after a sale or consent change, and store the rung."""
    rules = ladder_rules(session)
    consents = current_consents(session, member_id)
    standing = standing_of(
        session, member_id, rules=rules, today=now.date(), is_member=consents[Purpose.MEMBERSHIP]
    )
    result = assess(standing, rules, now.date())
    session.execute(
        update(Member).where(Member.id == member_id).values(rung=result.rung.value, updated_at=now)
    )
    return result
