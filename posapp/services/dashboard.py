"""The store manager's dashboard: is the counter capturing customers, and who builds relationships.

Qt-free: the UI calls :func:`dashboard` off the GUI thread and draws what it returns.
Every figure is one SQL aggregate over an index on the counter's own database (fast at a
million members and five million sales), and each is defined as HQ's report defines it
(:mod:`posapp.hq.reports`), so after a sync the two agree for the same store and range.
Stored times are UTC; days are the store's local days (its zone from HQ,
:mod:`posapp.domain.local_day`), ranges are ``[since, until)``, as at HQ.

What the counter cannot know the same way as HQ: sales made at *other* tills of the store
(each till holds its own), and which QR channel a member who joined by scanning used (they
count here under ``qr``; HQ names the channel).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from posapp.domain.local_day import day_bounds, day_start, days_bounds, local_day
from posapp.domain.table_csv import Table, from_csv, to_csv
from posapp.store.db import Database
from posapp.store.local_days import LOCAL_DAY_SQL, store_zone
from posapp.store.lookup import Lookup
from posapp.store.outbox import OLDEST_PENDING_SQL, PENDING_COUNT_SQL
from posapp.timefmt import to_text as _ts

CONTACT_CHANNELS = ("wecom", "phone", "in_store")


@dataclass(frozen=True, slots=True)
class Period:
    """``[since, until)`` in naive UTC; the constructors take whole days of the store's zone."""

    since: datetime
    until: datetime

    @classmethod
    def today(cls, now: datetime, zone: str) -> Period:
        return cls(*day_bounds(local_day(now, zone), zone))

    @classmethod
    def this_week(cls, now: datetime, zone: str) -> Period:
        """Monday to the end of today, on the store's calendar."""
        today = local_day(now, zone)
        return cls(*days_bounds(today - timedelta(days=today.weekday()), today, zone))

    @classmethod
    def days(cls, first: date, last: date, zone: str) -> Period:
        """A custom range of whole days, both ends included."""
        return cls(*days_bounds(first, last, zone))


def rate(part: int, whole: int) -> float | None:
    """Rounded as HQ rounds; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True, slots=True)
class Capture:
    key: str  # the day (YYYY-MM-DD), the staff id ("-" for none) or "all"
    name: str
    sales: int
    known: int

    @property
    def capture_rate(self) -> float | None:
        return rate(self.known, self.sales)


@dataclass(frozen=True, slots=True)
class Repurchase:
    buyers: int
    repeat_buyers: int

    @property
    def repurchase_rate(self) -> float | None:
        return rate(self.repeat_buyers, self.buyers)


@dataclass(frozen=True, slots=True)
class GuideFollowUps:
    guide_id: str
    name: str
    completed: int
    by_channel: dict[str, int]


@dataclass(frozen=True, slots=True)
class Dashboard:
    store_id: str | None
    period: Period
    capture: Capture
    capture_by_day: list[Capture]  # every day of the range, sales or not (a chart's x axis)
    capture_by_staff: list[Capture]
    enrolments_by_channel: dict[str, int]  # counter, qr
    enrolments_by_guide: dict[str, int]  # guide id ("-" for none)
    rungs: dict[str, int]
    repurchase: Repurchase
    follow_ups: list[GuideFollowUps]
    pending_events: int
    oldest_pending: datetime | None
    staff_names: dict[str, str]
    staff_roles: dict[str, str] = field(default_factory=dict)
    zone: str = "UTC"  # the store's zone: the days of capture_by_day are its calendar days

    @property
    def capture_by_cashier(self) -> list[Capture]:
        """The till operators who are cashiers: guides and managers at the till are not."""
        return [c for c in self.capture_by_staff if self.staff_roles.get(c.key) == "cashier"]

    @property
    def enrolments(self) -> int:
        return sum(self.enrolments_by_channel.values())

    @property
    def follow_ups_completed(self) -> int:
        return sum(g.completed for g in self.follow_ups)


def repurchase_in(lookup: Lookup, period: Period) -> Repurchase:
    """Members who bought twice or more in ``period`` among those who bought at all.

    Members' sales grouped per member: over a short range, read the range by time and sort
    it; once the range holds a good part of all members' sales, walking the member index
    (already in member order, nothing to sort) is cheaper: 0.4 s instead of 0.9 s for a year.
    """
    span = {"since": _ts(period.since), "until": _ts(period.until)}
    all_known, in_range = lookup.query(
        "SELECT coalesce(sum(known), 0), coalesce(sum(known) FILTER (WHERE day >= :first"
        " AND day <= :last), 0) FROM purchase_day",
        {"first": period.since.date().isoformat(), "last": period.until.date().isoformat()},
    )[0]
    by_member = in_range * 4 > all_known
    buyers, repeat = lookup.query(
        "SELECT count(*), coalesce(sum(n >= 2), 0) FROM (SELECT count(*) AS n FROM purchase"
        f"{' INDEXED BY ix_purchase_member_time' if by_member else ''}"
        " WHERE member_id IS NOT NULL AND occurred_at >= :since AND occurred_at < :until"
        " GROUP BY member_id)",
        span,
    )[0]
    return Repurchase(buyers, repeat)


def figures(db: Database, period: Period, *, store_id: str | None, side: Executor) -> Dashboard:
    """The dashboard, its repurchase rate read at the same time on ``side``'s thread (and so
    on that thread's own connection). On an encrypted file most of a year's cost is pages
    decrypted, half of them for that one figure: a second core takes them."""

    def alone() -> Repurchase:
        with db.lookup() as lookup:
            return repurchase_in(lookup, period)

    ahead = side.submit(alone)
    with db.lookup() as lookup:
        return dashboard(lookup, period, store_id=store_id, repurchase=ahead.result)


def dashboard(
    lookup: Lookup,
    period: Period,
    *,
    store_id: str | None = None,
    repurchase: Callable[[], Repurchase] | None = None,
) -> Dashboard:
    """Every figure for ``period``; ``store_id`` (this counter's store) limits enrolments to it;
    ``repurchase``: that figure, when it is read elsewhere (:func:`figures`)."""
    span = {"since": _ts(period.since), "until": _ts(period.until), "store": store_id}
    names: dict[str, str] = {}
    roles: dict[str, str] = {}
    for staff_id, name, role in lookup.query("SELECT id, name, role FROM staff"):
        names[staff_id], roles[staff_id] = name, role
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    staff: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    # Whole local days come from the per-day tally the purchase triggers keep (in the store's
    # zone); a range that starts or ends inside a day reads that day's sales themselves.
    zone = store_zone(lookup)
    first_day = local_day(period.since, zone)
    if day_start(first_day, zone) < period.since:
        first_day += timedelta(days=1)
    end_day = local_day(period.until, zone)
    tallied: list[tuple[Any, ...]] = []
    if first_day < end_day:
        tallied = lookup.query(
            "SELECT day, staff_id, sales, known FROM purchase_day"
            " WHERE day >= :first AND day < :end AND sales > 0",
            {"first": first_day.isoformat(), "end": end_day.isoformat()},
        )
        edges = [(period.since, day_start(first_day, zone)),
                 (day_start(end_day, zone), period.until)]  # fmt: skip
    else:
        edges = [(period.since, period.until)]
    for since, until in edges:
        if since < until:
            tallied += lookup.query(
                f"SELECT {LOCAL_DAY_SQL.format(column='occurred_at')}, staff_id, count(*),"
                " count(member_id) FROM purchase WHERE occurred_at >= ? AND occurred_at < ?"
                " GROUP BY 1, 2",
                (_ts(since), _ts(until)),
            )
    for day, who, sales, known in tallied:
        for tally, key in ((days, day), (staff, who or "-")):
            tally[key][0] += sales
            tally[key][1] += known
    by_day = []
    day = local_day(period.since, zone)
    while day_start(day, zone) < period.until:
        sales, known = days.get(day.isoformat(), (0, 0))
        by_day.append(Capture(day.isoformat(), day.isoformat(), sales, known))
        day += timedelta(days=1)
    by_staff = [Capture(k, names.get(k, k), *v) for k, v in sorted(staff.items())]
    total = Capture("all", "", sum(c.sales for c in by_staff), sum(c.known for c in by_staff))

    channels: dict[str, int] = defaultdict(int)
    guides: dict[str, int] = defaultdict(int)
    store_filter = (
        " AND (enrolled_store_id = :store OR enrolled_store_id IS NULL)" if store_id else ""
    )
    for channel, guide, n in lookup.query(
        "SELECT coalesce(joined_via, 'qr'), CASE WHEN joined_via IS NULL THEN guide_id"
        " ELSE joined_guide_id END, count(*)"
        " FROM member WHERE enrolled_at >= :since AND enrolled_at < :until"
        f"{store_filter} GROUP BY 1, 2",
        span,
    ):
        channels[channel] += n
        guides[guide or "-"] += n

    rungs = dict(
        lookup.query("SELECT rung, count(*) FROM member WHERE erased_at IS NULL GROUP BY rung")
    )
    bought_again = repurchase() if repurchase is not None else repurchase_in(lookup, period)

    done: dict[str, dict[str, int]] = defaultdict(dict)
    # Named, or SQLite walks the guide index to skip the GROUP BY sort: every follow-up ever
    # done, each read from the table (a year: 0.5 s against 0.07 s on the covering index).
    for guide, channel, n in lookup.query(
        "SELECT guide_id, channel, count(*) FROM follow_up INDEXED BY ix_follow_up_done_by"
        " WHERE done_at >= :since AND done_at < :until GROUP BY 1, 2",
        span,
    ):
        done[guide or "-"][channel or "-"] = n
    follow_ups = [
        GuideFollowUps(g, names.get(g, g), sum(by.values()), dict(sorted(by.items())))
        for g, by in sorted(done.items())
    ]
    pending = lookup.query(PENDING_COUNT_SQL)[0][0]
    first = lookup.query(OLDEST_PENDING_SQL)
    oldest = first[0][0] if first else None
    return Dashboard(
        store_id=store_id,
        period=period,
        capture=total,
        capture_by_day=by_day,
        capture_by_staff=by_staff,
        enrolments_by_channel=dict(sorted(channels.items())),
        enrolments_by_guide=dict(sorted(guides.items())),
        rungs=dict(sorted(rungs.items())),
        repurchase=bought_again,
        follow_ups=follow_ups,
        pending_events=pending,
        oldest_pending=datetime.fromisoformat(oldest) if oldest else None,
        staff_names=names,
        staff_roles=roles,
        zone=zone,
    )


# -- CSV export ------------------------------------------------------------------------------


def tables(d: Dashboard) -> list[Table]:
    """The dashboard as the tables a manager can export, one CSV file each."""

    def capture(c: Capture) -> tuple[Any, ...]:
        return (c.key, c.name, c.sales, c.known, c.capture_rate)

    return [
        Table("summary", ("figure", "value"), [
            ("since", d.period.since.isoformat()), ("until", d.period.until.isoformat()),
            ("sales", d.capture.sales), ("known", d.capture.known),
            ("capture_rate", d.capture.capture_rate), ("enrolments", d.enrolments),
            ("buyers", d.repurchase.buyers), ("repeat_buyers", d.repurchase.repeat_buyers),
            ("repurchase_rate", d.repurchase.repurchase_rate),
            ("follow_ups_completed", d.follow_ups_completed), ("pending_events", d.pending_events),
            ("timezone", d.zone),
        ]),
        Table("capture_by_day", ("day", "label", "sales", "known", "capture_rate"),
              [capture(c) for c in d.capture_by_day]),
        Table("capture_by_staff", ("staff_id", "staff_name", "sales", "known", "capture_rate"),
              [capture(c) for c in d.capture_by_staff]),
        Table("enrolments_by_channel", ("channel", "enrolments"),
              list(d.enrolments_by_channel.items())),
        Table("enrolments_by_guide", ("guide_id", "guide_name", "enrolments"),
              [(g, d.staff_names.get(g, g), n) for g, n in d.enrolments_by_guide.items()]),
        Table("rungs", ("rung", "members"), list(d.rungs.items())),
        Table("follow_ups_by_guide", ("guide_id", "guide_name", "completed", *CONTACT_CHANNELS),
              [(g.guide_id, g.name, g.completed, *(g.by_channel.get(c, 0) for c in CONTACT_CHANNELS))
               for g in d.follow_ups]),
    ]  # fmt: skip


def write_csv(table: Table, folder: Path) -> Path:
    """``<folder>/<table>.csv`` in UTF-8 with a BOM, so Excel shows Chinese names correctly."""
    path = Path(folder) / f"{table.name}.csv"
    path.write_text(to_csv(table), encoding="utf-8-sig", newline="")
    return path


def read_csv(path: Path) -> Table:
    return from_csv(Path(path).stem, Path(path).read_text(encoding="utf-8-sig"))
