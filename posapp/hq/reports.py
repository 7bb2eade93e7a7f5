"""HQ's reports as JSON: is the counter capturing customers, and who builds relationships."""

from __future__ import annotations

import json
from collections import Counter as Tally
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Date, case, cast, func, select
from sqlalchemy.orm import Session

from posapp.hq.models import APPLIED, Event, FollowUpDone, Member, MemberStore, Redemption, Sale
from posapp.hq.schemas import (
    CaptureReport,
    EnrolmentReport,
    FollowUpReport,
    RepurchaseReport,
    RungReport,
)


def last_days(days: int, now: datetime) -> tuple[datetime, datetime]:
    """A report's range: the last ``days`` days, up to a second from ``now`` (inclusive)."""
    until = now + timedelta(seconds=1)
    return until - timedelta(days=days), until


def _rate(known: int, total: int) -> float | None:
    return round(known / total, 4) if total else None


def _day(session: Session, column: Any) -> Any:
    return func.date(column) if session.get_bind().dialect.name == "sqlite" else cast(column, Date)


def capture_rate(
    session: Session, *, store_id: str | None, since: datetime, until: datetime
) -> CaptureReport:
    """Sales with a known member ÷ all sales, by store, by cashier and by day; sales by the
    guide who served."""
    known = func.sum(case((Sale.member_id.is_not(None), 1), else_=0))
    where = [Sale.occurred_at >= since, Sale.occurred_at < until]
    if store_id is not None:
        where.append(Sale.store_id == store_id)

    def grouped(column: Any, label: str) -> list[Any]:  # rows of StoreCapture, DayCapture ...
        rows = session.execute(
            select(column.label("k"), func.count().label("n"), known.label("m"))
            .where(*where)
            .group_by(column)
            .order_by(column)
        )
        return [
            {label: str(r.k) if r.k is not None else None, "sales": r.n, "known": int(r.m or 0),
             "capture_rate": _rate(int(r.m or 0), r.n)}
            for r in rows
        ]  # fmt: skip

    by_store = grouped(Sale.store_id, "store_id")
    total = sum(r["sales"] for r in by_store)
    # The guide who served (导购), kept on the sale beside the cashier who rang it up.
    by_guide = {r["guide_id"] or "-": r["sales"] for r in grouped(Sale.guide_id, "guide_id")}
    total_known = sum(r["known"] for r in by_store)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "sales": total,
        "known": total_known,
        "capture_rate": _rate(total_known, total),
        "by_store": by_store,
        "by_staff": grouped(Sale.staff_id, "staff_id"),
        "by_guide": dict(sorted(by_guide.items())),
        "by_day": grouped(_day(session, Sale.occurred_at), "day"),
    }


def enrolments(
    session: Session, *, store_id: str | None, since: datetime, until: datetime
) -> EnrolmentReport:
    """New members by channel (counter, or the QR's channel) and by guide."""
    by_channel: Tally[str] = Tally()
    by_guide: Tally[str] = Tally()
    events = select(Event.payload).where(
        Event.type == "member.enrolled",
        Event.status == APPLIED,
        Event.occurred_at >= since,
        Event.occurred_at < until,
    )
    redemptions = select(Redemption.channel, Redemption.guide_id).where(
        Redemption.redeemed_at >= since, Redemption.redeemed_at < until
    )
    if store_id is not None:
        events = events.where(Event.store_id == store_id)
        redemptions = redemptions.where(Redemption.store_id == store_id)
    for (payload,) in session.execute(events):
        by_channel["counter"] += 1
        by_guide[json.loads(payload).get("guide_id") or "-"] += 1
    for channel, guide in session.execute(redemptions):
        by_channel[channel] += 1
        by_guide[guide or "-"] += 1
    return {
        "total": sum(by_channel.values()),
        "by_channel": dict(sorted(by_channel.items())),
        "by_guide": dict(sorted(by_guide.items())),
    }


def rungs(session: Session, *, store_id: str | None) -> RungReport:
    query = (
        select(Member.rung, func.count()).where(Member.erased_at.is_(None)).group_by(Member.rung)
    )
    if store_id is not None:
        query = query.join(MemberStore, MemberStore.member_id == Member.id).where(
            MemberStore.store_id == store_id
        )
    return {rung: n for rung, n in session.execute(query)}


def repurchase(
    session: Session,
    *,
    store_id: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> RepurchaseReport:
    """Members who bought again ÷ members who bought at all (within the range, when given)."""
    per_member = select(Sale.member_id, func.count().label("n")).where(Sale.member_id.is_not(None))
    if store_id is not None:
        per_member = per_member.where(Sale.store_id == store_id)
    if since is not None:
        per_member = per_member.where(Sale.occurred_at >= since)
    if until is not None:
        per_member = per_member.where(Sale.occurred_at < until)
    counts = defaultdict(int)
    for _, n in session.execute(per_member.group_by(Sale.member_id)):
        counts["buyers"] += 1
        counts["repeat"] += n >= 2
    return {
        "buyers": counts["buyers"],
        "repeat_buyers": counts["repeat"],
        "repurchase_rate": _rate(counts["repeat"], counts["buyers"]),
    }


def follow_ups(
    session: Session, *, store_id: str | None, since: datetime, until: datetime
) -> FollowUpReport:
    """Follow-ups completed, by the guide who did them, by channel, outcome and kind."""
    where = [FollowUpDone.done_at >= since, FollowUpDone.done_at < until]
    if store_id is not None:
        where.append(FollowUpDone.store_id == store_id)

    def grouped(column: Any) -> dict[str, int]:
        rows = session.execute(select(column, func.count()).where(*where).group_by(column))
        return dict(sorted((str(k) if k is not None else "-", n) for k, n in rows))

    by_staff = grouped(FollowUpDone.staff_id)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "total": sum(by_staff.values()),
        "by_staff": by_staff,
        "by_channel": grouped(FollowUpDone.channel),
        "by_outcome": grouped(FollowUpDone.outcome),
        "by_kind": grouped(FollowUpDone.kind),
    }
