"""HQ's WeCom report: per store and guide, invites shown → contacts added → still contacts
after 30 days; removals; transfers done and refused. Read from the adapter's own tables
(what WeCom told HQ and what HQ made there), never by asking WeCom."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from posapp.hq.models import Staff
from posapp.hq.wecom.links import REMOVED
from posapp.hq.wecom.models import WeComContactWay, WeComGuide, WeComLink, WeComTransfer
from posapp.hq.wecom.schemas import GuideContacts, WeComReport

KEPT_AFTER = timedelta(days=30)
DONE, REFUSED = ("accepted",), ("refused", "limit", "rejected")
Key = tuple[str, str]  # (store, guide): "-" where HQ does not know


def _row(key: Key) -> GuideContacts:
    return GuideContacts(store_id=key[0], guide_id=key[1], invites_shown=0, added=0,
                         kept_30_days=0, settled_30_days=0, removed=0, transfers_done=0,
                         transfers_refused=0)  # fmt: skip


def wecom_report(
    session: Session, *, store_id: str | None, since: datetime, until: datetime, now: datetime
) -> WeComReport:
    """``kept_30_days`` of ``settled_30_days``: of the contacts added at least 30 days ago
    (in the period), how many still were 30 days on (a transfer counts as kept)."""
    rows: dict[Key, GuideContacts] = {}

    def at(store: str | None, guide: str | None) -> GuideContacts:
        key = (store or "-", guide or "-")
        return rows.setdefault(key, _row(key))

    ways = select(WeComContactWay.store_id, WeComContactWay.staff_id).where(
        WeComContactWay.created_at >= since, WeComContactWay.created_at < until
    )
    if store_id is not None:
        ways = ways.where(WeComContactWay.store_id == store_id)
    for way in session.execute(ways):
        at(way.store_id, way.staff_id)["invites_shown"] += 1
    moved_in = exists().where(
        WeComTransfer.external_userid == WeComLink.external_userid,
        WeComTransfer.takeover_userid == WeComLink.userid,
        WeComTransfer.status == "accepted",
    )
    links = select(WeComLink.store_id, WeComLink.staff_id, WeComLink.since, WeComLink.ended_at,
                   WeComLink.end_reason).where(~moved_in, WeComLink.since < until)  # fmt: skip
    if store_id is not None:
        links = links.where(WeComLink.store_id == store_id)
    for link in session.execute(links):
        row = at(link.store_id, link.staff_id)
        if link.since >= since:
            row["added"] += 1
            if link.since + KEPT_AFTER <= now:
                row["settled_30_days"] += 1
                ended = link.ended_at
                if (
                    ended is None
                    or ended >= link.since + KEPT_AFTER
                    or link.end_reason == "transferred"
                ):
                    row["kept_30_days"] += 1
        if link.end_reason == REMOVED and link.ended_at and since <= link.ended_at < until:
            row["removed"] += 1
    transfers = (
        select(WeComTransfer.status, Staff.store_id, WeComGuide.staff_id)
        .outerjoin(WeComGuide, WeComGuide.userid == WeComTransfer.takeover_userid)
        .outerjoin(Staff, Staff.id == WeComGuide.staff_id)
        .where(WeComTransfer.requested_at >= since, WeComTransfer.requested_at < until,
               WeComTransfer.status.in_(DONE + REFUSED))
    )  # fmt: skip
    if store_id is not None:
        transfers = transfers.where(and_(Staff.store_id == store_id))
    for transfer in session.execute(transfers):
        row = at(transfer.store_id, transfer.staff_id)
        row["transfers_done" if transfer.status in DONE else "transfers_refused"] += 1
    totals: dict[str, int] = defaultdict(int)
    for row in rows.values():
        for name, value in row.items():
            if isinstance(value, int):
                totals[name] += value
    return WeComReport(
        since=since.isoformat(), until=until.isoformat(),
        by_guide=[rows[key] for key in sorted(rows)], totals=dict(sorted(totals.items())),
    )  # fmt: skip
