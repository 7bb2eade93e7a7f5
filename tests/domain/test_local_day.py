"""Days in the store's own time: a sale's local day, where a day begins, DST days, and the
offset table the counter's SQL counts with agreeing with zoneinfo."""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.local_day import (
    DEFAULT_ZONE,
    day_bounds,
    day_start,
    days_bounds,
    is_zone,
    local_day,
    utc_offsets,
    valid_zone,
    zone_for_region,
)

ZONES = sorted(available_timezones())
STORE_ZONES = ["Asia/Shanghai", "Asia/Urumqi", "Europe/Berlin", "America/New_York",
               "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham",
               "America/Sao_Paulo", "UTC"]  # fmt: skip
INSTANTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31))


def test_a_sale_at_0730_shanghai_time_counts_as_today() -> None:
    sale = datetime(2026, 12, 2, 23, 30)  # 07:30 on 3 December in Shanghai
    assert local_day(sale, "Asia/Shanghai") == date(2026, 12, 3)
    assert day_bounds(date(2026, 12, 3), "Asia/Shanghai") == (
        datetime(2026, 12, 2, 16), datetime(2026, 12, 3, 16)
    )  # fmt: skip


def test_around_midnight_local() -> None:
    midnight = datetime(2026, 12, 2, 16)  # 00:00 on the 3rd in Shanghai
    assert local_day(midnight - timedelta(microseconds=1), DEFAULT_ZONE) == date(2026, 12, 2)
    assert local_day(midnight, DEFAULT_ZONE) == date(2026, 12, 3)
    assert day_start(date(2026, 12, 3), DEFAULT_ZONE) == midnight


def test_a_store_in_another_zone_keeps_its_own_days() -> None:
    sale = datetime(2026, 12, 2, 17, 30)  # 01:30 on the 3rd in Shanghai, 23:30 on the 2nd in Urumqi
    assert local_day(sale, "Asia/Shanghai") == date(2026, 12, 3)
    assert local_day(sale, "Asia/Urumqi") == date(2026, 12, 2)
    assert day_bounds(date(2026, 12, 3), "Asia/Urumqi") == (
        datetime(2026, 12, 2, 18), datetime(2026, 12, 3, 18)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
     ("America/New_York", date(2026, 3, 8), date(2026, 11, 1))],
)  # fmt: skip
def test_dst_days_have_23_and_25_hours(zone: str, spring: date, autumn: date) -> None:
    start, end = day_bounds(spring, zone)
    assert end - start == timedelta(hours=23)
    start, end = day_bounds(autumn, zone)
    assert end - start == timedelta(hours=25)
    ordinary = day_bounds(spring + timedelta(days=1), zone)
    assert ordinary[1] - ordinary[0] == timedelta(hours=24)


def test_a_whole_range_of_days() -> None:
    assert days_bounds(date(2026, 3, 30), date(2026, 3, 28), "Europe/Berlin") == (
        datetime(2026, 3, 27, 23), datetime(2026, 3, 30, 22)
    )  # fmt: skip


def test_zones_are_checked() -> None:
    assert valid_zone("Europe/Berlin") == "Europe/Berlin"
    for bad in ("", "Mars/Olympus", "../etc/passwd", "/etc/localtime", " Asia/Shanghai", "x" * 80):
        assert not is_zone(bad)
        with pytest.raises(ValueError, match="not a time zone"):
            valid_zone(bad)
    assert zone_for_region("CN") == "Asia/Shanghai" == zone_for_region(None)


def _sql_day(instant: datetime, zone: str) -> date:
    """What the counter's SQL computes: the instant plus the offset in force from the table."""
    offsets = utc_offsets(zone)
    at = bisect.bisect_right([since for since, _ in offsets], instant) - 1
    return (instant + timedelta(seconds=offsets[max(at, 0)][1])).date()


@given(INSTANTS, st.sampled_from(STORE_ZONES))
@settings(max_examples=400, deadline=None)
def test_a_sale_belongs_to_exactly_one_local_day(instant: datetime, zone: str) -> None:
    day = local_day(instant, zone)
    start, end = day_bounds(day, zone)
    assert start <= instant < end
    tick = timedelta(microseconds=1)  # the bounds are exact: no gap, no overlap between days
    assert local_day(start, zone) == day == local_day(end - tick, zone)
    assert local_day(start - tick, zone) < day < local_day(end, zone)
    aware = instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    assert day == aware.date()
    assert _sql_day(instant, zone) == day  # the counter's tally and HQ's reports agree


@given(INSTANTS, st.sampled_from(ZONES))
@settings(max_examples=60, deadline=None)
def test_every_zone_the_counters_offsets_agree(instant: datetime, zone: str) -> None:
    assert _sql_day(instant, zone) == local_day(instant, zone)
