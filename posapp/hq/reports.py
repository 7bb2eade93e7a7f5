"""HQ's reports as JSON: is the counter capturing customers, and who builds relationships."""

from __future__ import annotations

import itertools
import json
from collections import Counter as Tally
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Date, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from posapp.domain.local_day import DEFAULT_ZONE, utc_offsets
from posapp.hq.models import (
    APPLIED,
    Event,
    FollowUpDone,
    Member,
    MemberStore,
    Redemption,
    Sale,
    Store,
)
from posapp.hq.schemas import (
    CaptureReport,
    EnrolmentReport,
    FollowUpReport,
    RepurchaseReport,
    RungReport,
)
from posapp.timefmt import to_text


def last_days(days: int, now: datetime) -> tuple[datetime, datetime]:
    """A report's range: the last ``days`` days, up to a second from ``now`` (inclusive)."""
    until = now + timedelta(seconds=1)
    return until - timedelta(days=days), until


def _rate(known: int, total: int) -> float | None:
    return round(known / total, 4) if total else None


STORE_LOCAL = "store"  # a brand-wide report's days: each sale on its own store's calendar


def store_zone(session: Session, store_id: str) -> str:
    """The zone ``store_id`` keeps its days in (China's for a store HQ does not know)."""
    return session.scalar(select(Store.timezone).where(Store.id == store_id)) or DEFAULT_ZONE


def _days_by_zone(session: Session, store_id: str | None) -> dict[str, list[str] | None]:
    """Which stores count their days in which zone; ``None``: every store not named elsewhere."""
    if store_id is not None:
        return {store_zone(session, store_id): [store_id]}
    zones: dict[str, list[str]] = defaultdict(list)
    for store, zone_name in session.execute(select(Store.id, Store.timezone)):
        if zone_name != DEFAULT_ZONE:
            zones[zone_name].append(store)
    return {DEFAULT_ZONE: None, **zones}


def _local_day_of(
    session: Session, column: Any, zone_name: str, since: datetime, until: datetime
) -> Any:
    """``column``'s local day in ``zone_name`` as SQL, for instants in ``[since, until)``: the
    instant plus the offset in force, one branch per change of offset within the range (none
    in Shanghai, two a year in Berlin), so a report reads its sales once."""
    sqlite = session.get_bind().dialect.name == "sqlite"

    def shifted(seconds: int) -> Any:
        # Literals, not parameters: the expression is grouped by, and must read the same twice.
        if sqlite:
            return func.date(column, literal_column(f"'{seconds:+d} seconds'"))
        return cast(column + literal_column(f"interval '{seconds:d} seconds'"), Date)

    offsets = utc_offsets(zone_name)
    in_force = [o for o in offsets if o[0] <= since][-1:] or [offsets[0]]
    spans = in_force + [o for o in offsets if since < o[0] < until]
    if len(spans) == 1:
        return shifted(spans[0][1])
    return case(
        *(
            (column < literal_column(f"'{to_text(later[0])}'"), shifted(earlier[1]))
            for earlier, later in itertools.pairwise(spans)
        ),
        else_=shifted(spans[-1][1]),
    )


def capture_rate(
    session: Session, *, store_id: str | None, since: datetime, until: datetime
) -> CaptureReport:
    """Sales with a known member ÷ all sales, by store, by cashier and by day; sales by the
    guide who served.

    One pass over the range's sales per zone the stores keep their days in (a store's days in
    its own zone; brand-wide, each sale on its own store's calendar, summed by date): 5,000,000
    sales read once, not once per table of the report."""
    known = func.sum(case((Sale.member_id.is_not(None), 1), else_=0))
    where = [Sale.occurred_at >= since, Sale.occurred_at < until]
    if store_id is not None:
        where.append(Sale.store_id == store_id)
    zones = _days_by_zone(session, store_id)
    named = [s for stores in zones.values() if stores for s in stores]
    tallies: dict[str, dict[str | None, list[int]]] = {
        key: defaultdict(lambda: [0, 0]) for key in ("store_id", "staff_id", "guide_id", "day")
    }
    for zone_name, stores in zones.items():
        day = _local_day_of(session, Sale.occurred_at, zone_name, since, until)
        scope = Sale.store_id.in_(stores) if stores is not None else Sale.store_id.not_in(named)
        keys = (Sale.store_id, Sale.staff_id, Sale.guide_id, day)
        for *row, n, m in session.execute(
            select(*keys, func.count(), known).where(*where, scope).group_by(*keys)
        ):
            for key, value in zip(tallies, row, strict=True):
                tally = tallies[key][str(value) if value is not None else None]
                tally[0] += n
                tally[1] += int(m or 0)

    def rows(key: str, label: str) -> list[dict[str, Any]]:
        ordered = sorted(tallies[key].items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        return [{label: k, "sales": n, "known": m, "capture_rate": _rate(m, n)}
                for k, (n, m) in ordered]  # fmt: skip

    by_store = rows("store_id", "store_id")
    total = sum(r["sales"] for r in by_store)
    total_known = sum(r["known"] for r in by_store)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "sales": total,
        "known": total_known,
        "capture_rate": _rate(total_known, total),
        "by_store": by_store,
        "by_staff": rows("staff_id", "staff_id"),
        # The guide who served (导购), kept on the sale beside the cashier who rang it up.
        "by_guide": dict(sorted((k or "-", n) for k, (n, _) in tallies["guide_id"].items())),
        "by_day": rows("day", "day"),
        "timezone": next(iter(zones)) if len(zones) == 1 else STORE_LOCAL,
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
