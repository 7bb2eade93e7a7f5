"""The counter's clock: which zone its store keeps days in, and the SQL that finds a sale's
local day (the per-day tally's triggers use the same offsets, migration 0010)."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from posapp.domain.local_day import DEFAULT_ZONE, local_day, utc_offsets, valid_zone
from posapp.store.lookup import Lookup
from posapp.timefmt import to_text, utcnow

# A sale's local day in SQL: its instant plus the zone's offset in force at that instant.
LOCAL_DAY_SQL = (
    "date({column}, coalesce((SELECT offset_seconds FROM store_utc_offset"
    " WHERE from_utc <= {column} ORDER BY from_utc DESC LIMIT 1), 0) || ' seconds')"
)

_STORE_ZONE = (
    "SELECT s.timezone FROM store s JOIN sync_state st ON st.store_id = s.id WHERE st.id = 1"
)


def store_zone(lookup: Lookup) -> str:
    """This counter's store's zone; China's until HQ has named the store."""
    rows = lookup.query(_STORE_ZONE)
    return rows[0][0] if rows and rows[0][0] else DEFAULT_ZONE


def store_today(lookup: Lookup, now: datetime | None = None) -> date:
    """Today on the store's calendar (``now``: naive UTC, this moment when not given)."""
    return local_day(now or utcnow(), store_zone(lookup))


def keep_days_in(session: Session, zone_name: str) -> bool:
    """Count this counter's days in ``zone_name`` from now on, and recount the tally of past
    sales in it; False when the counter already does (nothing to recount)."""
    valid_zone(zone_name)
    offsets = [{"f": to_text(t), "s": s} for t, s in utc_offsets(zone_name)]
    current = [
        {"f": f, "s": s}
        for f, s in session.execute(
            text("SELECT from_utc, offset_seconds FROM store_utc_offset ORDER BY from_utc")
        )
    ]
    if current == offsets:
        return False
    session.execute(text("DELETE FROM store_utc_offset"))
    session.execute(
        text("INSERT INTO store_utc_offset (from_utc, offset_seconds) VALUES (:f, :s)"), offsets
    )
    recount_tally(session)
    return True


# One range of sales under one offset, added to the tally (a day may straddle two ranges).
_RECOUNT = (
    "INSERT INTO purchase_day (day, staff_id, sales, known)"
    " SELECT date(occurred_at, :shift), coalesce(staff_id, ''), count(*), count(member_id)"
    " FROM purchase WHERE occurred_at >= :since AND occurred_at < :until GROUP BY 1, 2"
    " ON CONFLICT (day, staff_id) DO UPDATE"
    " SET sales = sales + excluded.sales, known = known + excluded.known"
)


def recount_tally(session: Session) -> None:
    """The per-day tally counted again from the sales, in the offsets ``store_utc_offset``
    holds: one range of the time index per offset in force, not a look-up per sale."""
    spans = [("", 0)] + [
        (f, s) for f, s in session.execute(
            text("SELECT from_utc, offset_seconds FROM store_utc_offset ORDER BY from_utc")
        )
    ]  # fmt: skip
    session.execute(text("DELETE FROM purchase_day"))
    for (since, seconds), (until, _) in itertools.pairwise([*spans, ("\uffff", 0)]):
        session.execute(
            text(_RECOUNT), {"shift": f"{seconds:+d} seconds", "since": since, "until": until}
        )
