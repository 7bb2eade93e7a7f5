"""Dashboard figures equal a direct computation over the seeded rows; CSV exports round-trip."""

from __future__ import annotations

from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from roster import GUIDE, MANAGER

from posapp.domain.consent import Notice, Purpose
from posapp.services.dashboard import (
    Dashboard,
    Period,
    Table,
    dashboard,
    from_csv,
    read_csv,
    tables,
    to_csv,
    write_csv,
)
from posapp.services.dashboard import (
    figures as two_readers,
)
from posapp.services.follow_ups import complete_follow_up, due_follow_ups
from posapp.services.members import enrol_member
from posapp.services.sales import link_sale, record_sale
from posapp.store.db import Database, connect_raw
from posapp.store.seed import seed_members, seed_walk_in_sales

NOW = datetime(2026, 11, 25, 15, 30)
ZONE = "Asia/Shanghai"  # the test store's: HQ has named no other


def _shanghai_day(text: object) -> str:
    """The sale's day on a Shanghai wall clock, computed here with zoneinfo alone."""
    moment = datetime.fromisoformat(str(text)).replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(ZONE)).date().isoformat()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Path:
    """2,000 seeded members, 6,000 walk-in sales, counter enrolments and completed follow-ups."""
    from dbfiles import copy_database

    from posapp.resources import current_notice
    from posapp.store.migrate import open_database

    path = tmp_path_factory.mktemp("dash") / "posapp.db"
    copy_database(template_db, path)
    db = open_database(path)
    notice = current_notice()
    seed_members(db, 2_000, notice=notice, now=NOW, seed=3)
    seed_walk_in_sales(db, 6_000, now=NOW, seed=4)
    for n in range(30):
        at = NOW - timedelta(days=n % 10, hours=n)
        with db.write() as s:
            walk_in = record_sale(s, receipt_no=f"D-{n}", amount="88", staff_id=GUIDE, now=at)
        with db.write() as s:
            member = enrol_member(
                s, phone=f"+86139{n:08d}", consents={Purpose.MEMBERSHIP, Purpose.GUIDE_CONTACT},
                notice=notice, staff_id=GUIDE, store_id="test-store", now=at,
                purchase_id=walk_in.purchase_id if n % 3 == 0 else None,
            ).member_id  # fmt: skip
        if n % 3 == 1:
            with db.write() as s:  # linked after the fact: the tally follows the update
                link_sale(s, purchase_id=walk_in.purchase_id, member_id=member, now=at)
        with db.write() as s:
            record_sale(s, receipt_no=f"E-{n}", amount="20", member_id=member, now=at)
    with db.lookup() as lookup:
        due = due_follow_ups(lookup, GUIDE, NOW.date())
    for n, item in enumerate(due[:20]):
        with db.write() as s:
            complete_follow_up(s, item.task.id, MANAGER if n % 4 else GUIDE,
                               ("wecom", "phone", "in_store")[n % 3], "reached", NOW - timedelta(hours=n))  # fmt: skip
    db.close()
    return path


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = connect_raw(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _expected(path: Path, period: Period, store: str) -> dict[str, object]:
    """Every figure computed in Python from the raw rows, independently of the service."""
    inside = lambda text: period.since <= datetime.fromisoformat(text) < period.until  # noqa: E731
    sales = [(t, s, m) for t, s, m in _rows(path, "SELECT occurred_at, staff_id, member_id FROM purchase") if inside(t)]  # type: ignore[arg-type]  # fmt: skip
    by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_staff: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t, s, m in sales:
        for tally, key in ((by_day, _shanghai_day(t)), (by_staff, s or "-")):
            tally[key][0] += 1
            tally[key][1] += m is not None
    members = _rows(path, "SELECT enrolled_at, enrolled_store_id, joined_via, CASE WHEN joined_via IS NULL THEN guide_id ELSE joined_guide_id END, rung, erased_at FROM member")  # fmt: skip
    enrolled = [m for m in members if inside(m[0]) and m[1] in (store, None)]  # type: ignore[arg-type]
    per_member = Counter(m for _, _, m in sales if m is not None)
    done = [r for r in _rows(path, "SELECT done_at, guide_id, channel FROM follow_up") if inside(r[0])]  # type: ignore[arg-type]  # fmt: skip
    return {
        "sales": (len(sales), sum(m is not None for _, _, m in sales)),
        "by_day": {k: tuple(v) for k, v in by_day.items()},
        "by_staff": {k: tuple(v) for k, v in by_staff.items()},
        "channels": dict(Counter(m[2] or "qr" for m in enrolled)),
        "guides": dict(Counter(m[3] or "-" for m in enrolled)),
        "rungs": dict(Counter(m[4] for m in members if m[5] is None)),
        "repurchase": (len(per_member), sum(n >= 2 for n in per_member.values())),
        "follow_ups": dict(Counter((g or "-", c) for _, g, c in done)),
    }


def _figures(d: Dashboard) -> dict[str, object]:
    return {
        "sales": (d.capture.sales, d.capture.known),
        "by_day": {c.key: (c.sales, c.known) for c in d.capture_by_day if c.sales},
        "by_staff": {c.key: (c.sales, c.known) for c in d.capture_by_staff},
        "channels": d.enrolments_by_channel,
        "guides": d.enrolments_by_guide,
        "rungs": d.rungs,
        "repurchase": (d.repurchase.buyers, d.repurchase.repeat_buyers),
        "follow_ups": {(g.guide_id, c): n for g in d.follow_ups for c, n in g.by_channel.items()},
    }


def _dashboard(path: Path, period: Period) -> Dashboard:
    db = Database(path)
    try:
        with db.lookup() as lookup:
            return dashboard(lookup, period, store_id="test-store")
    finally:
        db.close()


@pytest.mark.parametrize(
    "period",
    [
        Period.today(NOW, ZONE),
        Period.this_week(NOW, ZONE),
        Period.days(date(2026, 11, 1), date(2026, 11, 25), ZONE),
        Period.days(date(2025, 1, 1), date(2026, 12, 31), ZONE),
        Period(NOW - timedelta(days=3, hours=5), NOW - timedelta(hours=2)),  # partial days
    ],
    ids=["today", "week", "month", "all", "partial"],
)
def test_figures_equal_a_direct_computation(seeded: Path, period: Period) -> None:
    figures = _dashboard(seeded, period)
    assert _figures(figures) == _expected(seeded, period, "test-store")
    assert figures.capture.sales > 0
    last_moment = period.until - timedelta(microseconds=1)
    days_touched = (date.fromisoformat(_shanghai_day(last_moment))
                    - date.fromisoformat(_shanghai_day(period.since))).days + 1  # fmt: skip
    assert len(figures.capture_by_day) == days_touched
    assert figures.pending_events > 0 and figures.oldest_pending is not None
    # As the counter reads them: the repurchase rate on a second thread's own connection.
    db = Database(seeded)
    try:
        with ThreadPoolExecutor(max_workers=1) as side:
            read_apart = two_readers(db, period, store_id="test-store", side=side)
    finally:
        db.close()
    assert _figures(read_apart) == _figures(figures)


def test_the_daily_tally_follows_every_change_of_a_sale(seeded: Path) -> None:
    per_day: Counter[tuple[str, str]] = Counter()
    known: Counter[tuple[str, str]] = Counter()
    for at, staff, member in _rows(seeded, "SELECT occurred_at, staff_id, member_id FROM purchase"):
        key = (_shanghai_day(at), str(staff or ""))
        per_day[key] += 1
        known[key] += member is not None
    direct = [(*key, n, known[key]) for key, n in sorted(per_day.items())]
    tally = _rows(seeded, "SELECT day, staff_id, sales, known FROM purchase_day WHERE sales > 0"
                          " ORDER BY 1, 2")  # fmt: skip
    assert tally == direct


@given(st.sampled_from(["today", "week"]))
@settings(max_examples=2, deadline=None)
def test_csv_export_round_trips(tmp_path_factory: pytest.TempPathFactory, which: str) -> None:
    d = Dashboard(
        store_id="s", period=Period.today(NOW, ZONE), capture=_capture(), capture_by_day=[_capture()],
        capture_by_staff=[_capture()], enrolments_by_channel={"counter": 2},
        enrolments_by_guide={"g1": 2}, rungs={"member": 3}, repurchase=_repurchase(),
        follow_ups=[], pending_events=0, oldest_pending=None,
        staff_names={"g1": '=HYPERLINK("x"), 王芳'},
    )  # fmt: skip
    folder = tmp_path_factory.mktemp(which)
    for table in tables(d):
        path = write_csv(table, folder)
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
        back = read_csv(path)
        assert back == _as_text(table)
    guides = next(t for t in tables(d) if t.name == "enrolments_by_guide")
    assert "'=HYPERLINK" in to_csv(guides)  # never a live formula in a spreadsheet


@given(
    st.lists(
        st.tuples(st.text(max_size=20), st.integers(), st.none() | st.floats(allow_nan=False)),
        max_size=20,
    )
)
def test_any_table_round_trips_through_csv(rows: list[tuple[object, ...]]) -> None:
    table = Table("t", ("a", "b", "c"), rows)
    text = to_csv(table)
    assert from_csv("t", text) == _as_text(table)


def test_real_dashboard_tables_round_trip(seeded: Path, tmp_path: Path) -> None:
    for table in tables(
        _dashboard(seeded, Period.days(date(2026, 11, 1), date(2026, 11, 25), ZONE))
    ):
        assert read_csv(write_csv(table, tmp_path)) == _as_text(table)


def _as_text(table: Table) -> Table:
    return Table(
        table.name,
        table.columns,
        [tuple("" if v is None else str(v) for v in row) for row in table.rows],
    )


def _capture():  # type: ignore[no-untyped-def]
    from posapp.services.dashboard import Capture

    return Capture("2026-11-25", "2026-11-25", 10, 4)


def _repurchase():  # type: ignore[no-untyped-def]
    from posapp.services.dashboard import Repurchase

    return Repurchase(5, 2)


def test_period_helpers() -> None:
    monday = datetime(2026, 11, 23)
    assert Period.this_week(NOW, "UTC") == Period(monday, datetime(2026, 11, 26))
    assert Period.today(NOW, "UTC") == Period(datetime(2026, 11, 25), datetime(2026, 11, 26))
    assert Period.days(date(2026, 11, 3), date(2026, 11, 1), "UTC") == Period(
        datetime(2026, 11, 1), datetime(2026, 11, 4)
    )
    # 15:30 UTC is 23:30 in Shanghai: still the 25th there, which began at 16:00 UTC the day before.
    assert Period.today(NOW, ZONE) == Period(datetime(2026, 11, 24, 16), datetime(2026, 11, 25, 16))
    assert Period.today(NOW + timedelta(hours=1), ZONE).since == datetime(2026, 11, 25, 16)


def test_an_empty_store_has_no_rates(db: Database, notice: Notice) -> None:
    with db.lookup() as lookup:
        d = dashboard(lookup, Period.today(NOW, ZONE))
    assert d.capture.capture_rate is None and d.repurchase.repurchase_rate is None
    assert d.enrolments == 0 and d.follow_ups_completed == 0 and d.rungs == {}
