"""The console's operational reads: today and this week across the viewer's stores, the
counters' health, and the event log. Sales, capture and enrolments come from
``posapp.hq.reports`` (the API's own figures); only what no service had is read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from posapp.hq import admin, reports
from posapp.hq.console.users import Viewer
from posapp.hq.ingest import backlog_status
from posapp.hq.models import RECEIVED, REJECTED, Device, Event, Store

STALE = timedelta(days=1)  # a counter not heard from for a day needs a look
EVENT_PAGE = 100


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.date(), time())


def week_start(now: datetime) -> datetime:
    return day_start(now) - timedelta(days=now.weekday())


@dataclass(frozen=True)
class StoreLine:
    store: Store
    today: dict[str, Any]  # a StoreCapture row of reports.capture_rate
    week: dict[str, Any]


@dataclass(frozen=True)
class DeviceLine:
    device: Device
    pending: int
    stale: bool
    skewed: bool


@dataclass(frozen=True)
class Overview:
    stores: list[StoreLine]
    today: dict[str, Any]
    week: dict[str, Any]
    enrolled_today: int
    enrolled_week: int
    devices: list[DeviceLine]
    waiting: dict[str, object]
    rejected_week: int


def visible_stores(session: Session, viewer: Viewer) -> list[Store]:
    query = select(Store).order_by(Store.store_no)
    if viewer.stores is not None:
        query = query.where(Store.id.in_(viewer.stores))
    return list(session.scalars(query))


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    sales, known = sum(r["sales"] for r in rows), sum(r["known"] for r in rows)
    return {
        "sales": sales,
        "known": known,
        "capture_rate": round(known / sales, 4) if sales else None,
    }


def _enrolled(session: Session, viewer: Viewer, since: datetime, until: datetime) -> int:
    if viewer.stores is None:
        return reports.enrolments(session, store_id=None, since=since, until=until)["total"]
    return sum(reports.enrolments(session, store_id=s, since=since, until=until)["total"]
               for s in sorted(viewer.stores))  # fmt: skip


def pending_by_device(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Event.device_id, func.count())
        .where(Event.status == RECEIVED)
        .group_by(Event.device_id)
    )
    return {device: n for device, n in rows}


def devices(session: Session, viewer: Viewer, *, now: datetime, skew_warn_s: int,
            store_id: str | None = None) -> list[DeviceLine]:  # fmt: skip
    pending = pending_by_device(session)
    return [
        DeviceLine(
            d,
            pending.get(d.id, 0),
            d.revoked_at is None and (d.last_seen_at is None or now - d.last_seen_at > STALE),
            abs(d.clock_skew_s or 0) > skew_warn_s,
        )
        for d in admin.list_devices(session, store_id=store_id)
        if viewer.can_see(d.store_id)
    ]


def overview(session: Session, viewer: Viewer, *, now: datetime, skew_warn_s: int) -> Overview:
    until = now + timedelta(seconds=1)
    stores = visible_stores(session, viewer)
    today = {r["store_id"]: r for r in reports.capture_rate(
        session, store_id=None, since=day_start(now), until=until)["by_store"]}  # fmt: skip
    week = {r["store_id"]: r for r in reports.capture_rate(
        session, store_id=None, since=week_start(now), until=until)["by_store"]}  # fmt: skip
    empty = {"sales": 0, "known": 0, "capture_rate": None}
    lines = [StoreLine(s, today.get(s.id, empty), week.get(s.id, empty)) for s in stores]
    rejected = select(func.count()).where(Event.status == REJECTED,
                                          Event.received_at >= now - timedelta(days=7))  # fmt: skip
    if viewer.stores is not None:
        rejected = rejected.where(Event.store_id.in_(viewer.stores))
    return Overview(
        lines, _totals([ln.today for ln in lines]), _totals([ln.week for ln in lines]),
        _enrolled(session, viewer, day_start(now), until),
        _enrolled(session, viewer, week_start(now), until),
        devices(session, viewer, now=now, skew_warn_s=skew_warn_s),
        backlog_status(session, now=now), session.scalar(rejected) or 0,
    )  # fmt: skip


@dataclass(frozen=True)
class EventLine:
    id: int
    device_id: str
    seq: int
    store_id: str
    type: str
    status: str
    reason: str | None
    occurred_at: datetime
    received_at: datetime


def event_log(
    session: Session,
    viewer: Viewer,
    *,
    device_id: str | None = None,
    status: str | None = None,
    before: int | None = None,
) -> tuple[list[EventLine], int | None]:
    """Newest first, keyset by id; payloads are never shown (they carry personal data)."""
    query = select(Event.id, Event.device_id, Event.seq, Event.store_id, Event.type, Event.status,
                   Event.reason, Event.occurred_at, Event.received_at)  # fmt: skip
    if viewer.stores is not None:
        query = query.where(Event.store_id.in_(viewer.stores))
    if device_id:
        query = query.where(Event.device_id == device_id)
    if status:
        query = query.where(Event.status == status)
    if before:
        query = query.where(Event.id < before)
    rows = [
        EventLine(*r)
        for r in session.execute(query.order_by(Event.id.desc()).limit(EVENT_PAGE + 1))
    ]
    more = len(rows) > EVENT_PAGE
    rows = rows[:EVENT_PAGE]
    return rows, rows[-1].id if more and rows else None


def event_counts(session: Session, viewer: Viewer) -> dict[str, dict[str, int]]:
    """Per device: events received (still waiting), applied, rejected, flagged."""
    query = select(Event.device_id, Event.status, func.count()).group_by(
        Event.device_id, Event.status
    )
    if viewer.stores is not None:
        query = query.where(Event.store_id.in_(viewer.stores))
    counts: dict[str, dict[str, int]] = {}
    for device, status, n in session.execute(query):
        counts.setdefault(device, {})[status] = n
    return dict(sorted(counts.items()))
