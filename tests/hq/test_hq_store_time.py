"""Days in the store's own time, at HQ and at the counter: the store's zone is set at HQ and
sent down with the store, and a sale falls on the same local day in the counter's dashboard
and in HQ's report for that store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, text

from posapp.domain.errors import InvalidInput
from posapp.domain.local_day import day_bounds, days_bounds, local_day
from posapp.hq import admin, reports
from posapp.hq.db import HqDatabase
from posapp.hq.feed import read_changes
from posapp.hq.migrate import migrate
from posapp.hq.models import Sale
from posapp.protocol.changes import StoreChange
from posapp.services.dashboard import Period, dashboard
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.hq_changes import apply_page
from posapp.store.local_days import store_zone

NOW = datetime(2026, 12, 1, 9)
RECEIPTS = count(1)


@pytest.fixture
def hq_db(hq_url: str) -> Iterator[HqDatabase]:
    database = HqDatabase(hq_url)
    migrate(database)
    with database.write() as session:
        admin.add_store(session, store_id="a", name="静安店", now=NOW)
    yield database
    database.close()


def _sold(hq_db: HqDatabase, counter: Database, *moments: datetime, store: str = "a") -> None:
    """The same sales at the counter and, as if synced, at HQ."""
    for moment in moments:
        receipt = f"R{next(RECEIPTS)}"
        with counter.write() as s:
            sale = record_sale(s, receipt_no=receipt, amount="10", now=moment)
        with hq_db.write() as s:
            s.add(Sale(purchase_id=sale.purchase_id, store_id=store, device_id="d", receipt_no=receipt,
                       amount_fen=1000, currency="CNY", occurred_at=moment))  # fmt: skip


def _pull(hq_db: HqDatabase, counter: Database, store: str, cursor: str | None) -> str:
    """One page of the store's feed applied at the counter (what a sync's pull does)."""
    with hq_db.read() as s:
        changes, after, _ = read_changes(s, store_id=store, cursor=cursor, limit=100)
    with counter.write() as s:
        apply_page(s, [c for c in changes if isinstance(c, StoreChange)])
    return after


def _counter_days(counter: Database, period: Period) -> dict[str, int]:
    with counter.lookup() as lookup:
        d = dashboard(lookup, period)
    return {c.key: c.sales for c in d.capture_by_day if c.sales}


def _hq_days(hq_db: HqDatabase, store: str | None, period: Period) -> tuple[dict[str, int], str]:
    with hq_db.read() as s:
        report = reports.capture_rate(s, store_id=store, since=period.since, until=period.until)
    return {r["day"]: r["sales"] for r in report["by_day"]}, report["timezone"]


def test_a_sale_at_0730_shanghai_time_counts_as_today_at_the_counter_and_at_hq(
    hq_db: HqDatabase, db: Database
) -> None:
    _pull(hq_db, db, "a", None)
    with db.lookup() as lookup:
        assert store_zone(lookup) == "Asia/Shanghai"  # region CN's, from HQ
    morning = datetime(2026, 12, 2, 23, 30)  # 07:30 on 3 December in Shanghai
    _sold(hq_db, db, morning)
    today = Period.today(morning + timedelta(hours=2), "Asia/Shanghai")
    assert _counter_days(db, today) == {"2026-12-03": 1}
    assert _hq_days(hq_db, "a", today) == ({"2026-12-03": 1}, "Asia/Shanghai")
    yesterday = Period.days(date(2026, 12, 2), date(2026, 12, 2), "Asia/Shanghai")
    assert _counter_days(db, yesterday) == {}
    assert _hq_days(hq_db, "a", yesterday)[0] == {}


def test_around_midnight_local_both_sides_agree(hq_db: HqDatabase, db: Database) -> None:
    _pull(hq_db, db, "a", None)
    midnight = datetime(2026, 12, 2, 16)  # 00:00 on the 3rd in Shanghai
    _sold(
        hq_db,
        db,
        midnight - timedelta(seconds=1),
        midnight,
        midnight + timedelta(hours=23, minutes=59),
    )
    week = Period.days(date(2026, 12, 1), date(2026, 12, 4), "Asia/Shanghai")
    expected = {"2026-12-02": 1, "2026-12-03": 2}
    assert _counter_days(db, week) == expected == _hq_days(hq_db, "a", week)[0]
    partial = Period(midnight - timedelta(hours=1), midnight + timedelta(hours=1))  # inside days
    assert _counter_days(db, partial) == {"2026-12-02": 1, "2026-12-03": 1}
    assert _hq_days(hq_db, "a", partial)[0] == {"2026-12-02": 1, "2026-12-03": 1}


def test_a_zone_set_at_hq_reaches_the_counter_and_recounts_its_days(
    hq_db: HqDatabase, db: Database
) -> None:
    cursor = _pull(hq_db, db, "a", None)
    # Berlin's spring-forward day has 23 hours: 23:30 UTC on the 28th is already the 29th.
    sales = [datetime(2026, 3, 28, 22, 30), datetime(2026, 3, 28, 23, 30), datetime(2026, 3, 29, 21, 59),
             datetime(2026, 3, 29, 22, 0)]  # fmt: skip
    _sold(hq_db, db, *sales)
    with hq_db.write() as s:
        store = admin.set_store_timezone(s, store_id="a", timezone="Europe/Berlin", now=NOW)
        assert store.timezone == "Europe/Berlin"
        with pytest.raises(InvalidInput):
            admin.set_store_timezone(s, store_id="a", timezone="Europe/Atlantis", now=NOW)
    _pull(hq_db, db, "a", cursor)
    with db.lookup() as lookup:
        assert store_zone(lookup) == "Europe/Berlin"
    spring = Period.days(date(2026, 3, 28), date(2026, 3, 30), "Europe/Berlin")
    expected = {"2026-03-28": 1, "2026-03-29": 2, "2026-03-30": 1}
    assert _counter_days(db, spring) == expected
    assert _hq_days(hq_db, "a", spring) == (expected, "Europe/Berlin")
    # Brand-wide, with stores in two zones: each sale on its own store's calendar, said so.
    with hq_db.write() as s:
        admin.add_store(s, store_id="u", name="乌鲁木齐店", timezone="Asia/Urumqi", now=NOW)
    _sold(hq_db, db, datetime(2026, 3, 29, 17, 30), store="u")  # 23:30 on the 29th in Urumqi
    brand = Period(datetime(2026, 3, 27), datetime(2026, 3, 31))
    days, zone = _hq_days(hq_db, None, brand)
    assert zone == reports.STORE_LOCAL
    assert days == {"2026-03-28": 1, "2026-03-29": 3, "2026-03-30": 1}


def test_a_new_store_takes_its_regions_zone_or_the_one_given(hq_db: HqDatabase) -> None:
    with hq_db.write() as s:
        hk = admin.add_store(s, store_id="hk", name="铜锣湾店", region="HK", now=NOW)
        ny = admin.add_store(s, store_id="ny", name="SoHo", timezone="America/New_York", now=NOW)
        with pytest.raises(InvalidInput) as refused:
            admin.add_store(s, store_id="x", name="x", timezone="Shanghai", now=NOW)
        assert refused.value.field == "timezone"
        assert (hk.timezone, ny.timezone) == ("Asia/Hong_Kong", "America/New_York")
    with hq_db.read() as s:
        stored = dict(s.execute(text("SELECT id, timezone FROM store")).all())
    assert stored == {"a": "Asia/Shanghai", "hk": "Asia/Hong_Kong", "ny": "America/New_York"}


ZONES = ["Asia/Shanghai", "Asia/Urumqi", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]


@given(
    st.sampled_from(ZONES),
    st.lists(
        st.datetimes(min_value=datetime(2026, 3, 20), max_value=datetime(2026, 4, 5)),
        min_size=1,
        max_size=12,
    ),
)
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_counter_and_hq_agree_on_every_sales_local_day(
    hq_db: HqDatabase, db: Database, zone: str, moments: list[datetime]
) -> None:
    with hq_db.write() as s:
        admin.set_store_timezone(s, store_id="a", timezone=zone, now=NOW)
        s.execute(delete(Sale))
    with db.write() as s:
        s.execute(text("DELETE FROM purchase"))
    _pull(hq_db, db, "a", None)
    _sold(hq_db, db, *moments)
    first, last = min(moments), max(moments)
    period = Period(*days_bounds(local_day(first, zone), local_day(last, zone), zone))
    counted = _counter_days(db, period)
    assert sum(counted.values()) == len(moments)  # each sale on exactly one day
    for moment in moments:
        start, end = day_bounds(local_day(moment, zone), zone)
        assert start <= moment < end
    assert counted == _hq_days(hq_db, "a", period)[0]
    ragged = Period(first, last + timedelta(microseconds=1))  # starts and ends inside days
    assert _counter_days(db, ragged) == _hq_days(hq_db, "a", ragged)[0]
