"""Days in the store's own time: which local day an instant falls on, and where a day begins.

Every stored instant is naive UTC; a *day* (today on the dashboard, a sale's day in a
report, the day a thank-you falls due, a birthday) is a calendar day on the store's wall
clock, in the store's IANA zone (HQ's ``store.timezone``, sent down to its counters). A
store in Shanghai starts its day at 16:00 UTC the evening before; one in Berlin has a
23-hour day in March and a 25-hour day in October. This module is the one place that
turns one into the other, so the counter and HQ cannot disagree on a day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
ZONE_BY_REGION = {"CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "TW": "Asia/Taipei"}
MAX_ZONE_LENGTH = 64

# The counter's SQL keeps its per-day tally with a table of the zone's UTC offsets
# (SQLite has no time zones): every change of offset from here to here is listed.
OFFSETS_FROM = datetime(1970, 1, 1)
OFFSETS_UNTIL = datetime(2100, 1, 1)


def zone_for_region(region: str | None) -> str:
    """A new store's zone when none is given: its region's capital, else China's."""
    return ZONE_BY_REGION.get((region or "").upper(), DEFAULT_ZONE)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Asia/Shanghai``); ``ValueError`` for anything else.

    ``tzdata`` ships the zone database where the system has none (Windows)."""
    if (
        not isinstance(name, str)
        or not name
        or len(name) > MAX_ZONE_LENGTH
        or name != name.strip()
        or name.startswith(("/", "."))
        or ".." in name
    ):
        raise ValueError(f"not a time zone: {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"not a time zone: {name!r}") from exc


def valid_zone(name: str) -> str:
    """``name`` itself when it is an IANA zone; ``ValueError`` otherwise."""
    zone(name)
    return name


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else zone(tz)


def local_time(instant_utc: datetime, tz: ZoneInfo | str) -> datetime:
    """The store's wall-clock time (naive) at ``instant_utc`` (naive UTC)."""
    return instant_utc.replace(tzinfo=UTC).astimezone(_zone(tz)).replace(tzinfo=None)


def local_day(instant_utc: datetime, tz: ZoneInfo | str) -> date:
    """The store's calendar day at ``instant_utc`` (naive UTC)."""
    return local_time(instant_utc, tz).date()


def day_start(day: date, tz: ZoneInfo | str) -> datetime:
    """The first instant (naive UTC) of the store's ``day``.

    Where midnight does not exist (a spring-forward at 00:00), the day begins at the jump."""
    local = datetime.combine(day, time.min, tzinfo=_zone(tz))
    start = local.astimezone(UTC).replace(tzinfo=None)
    # A gap that swallows midnight: fold=0 lands after the jump; the jump itself is earlier.
    earlier = local.replace(fold=1).astimezone(UTC).replace(tzinfo=None)
    if earlier < start and local_day(earlier, tz) == day:
        return earlier
    return start


def day_bounds(day: date, tz: ZoneInfo | str) -> tuple[datetime, datetime]:
    """``[start, end)`` in naive UTC of the store's ``day``: 24 hours, or 23 or 25 on a DST day."""
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def days_bounds(first: date, last: date, tz: ZoneInfo | str) -> tuple[datetime, datetime]:
    """``[start, end)`` in naive UTC of the store's days ``first`` to ``last``, both included."""
    if last < first:
        first, last = last, first
    return day_start(first, tz), day_start(last + timedelta(days=1), tz)


def _offset_seconds(instant_utc: datetime, tz: ZoneInfo) -> int:
    offset = instant_utc.replace(tzinfo=UTC).astimezone(tz).utcoffset() or timedelta(0)
    return int(offset.total_seconds())


@lru_cache(maxsize=8)
def utc_offsets(
    tz: ZoneInfo | str, since: datetime = OFFSETS_FROM, until: datetime = OFFSETS_UNTIL
) -> tuple[tuple[datetime, int], ...]:
    """``(from_utc, offset_seconds)`` for each change of the zone's UTC offset in
    ``[since, until)``, the first row from ``since``: the counter's SQL adds the offset in
    force to a sale's instant to find its local day, exactly as :func:`local_day` does."""
    tz = _zone(tz)
    step = timedelta(days=7)  # no zone changes its offset and back within a week
    current = _offset_seconds(since, tz)
    rows = [(since, current)]
    probe = since
    while probe < until:
        following = min(probe + step, until)
        offset = _offset_seconds(following, tz)
        if offset != current:
            low, high = probe, following  # the change happens in (low, high]
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                mid = mid.replace(microsecond=0)
                if mid <= low:
                    break
                if _offset_seconds(mid, tz) == current:
                    low = mid
                else:
                    high = mid
            rows.append((high, offset))
            current = offset
        probe = following
    return tuple(rows)
