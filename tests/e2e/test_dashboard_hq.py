"""A store day of guides' work against a real HQ process: follow-ups completed at the counter
reach HQ, a manager's reassignment comes back from HQ (and the third transfer is refused
with WeCom's reason), and after sync the counter's dashboard equals HQ's reports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hq_load import hq_process
from sqlalchemy import text
from sync_world import now, registered_counter

from posapp.domain.consent import Purpose
from posapp.hq import admin, reports
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.dashboard import Dashboard, Period, dashboard
from posapp.services.follow_ups import (
    complete_follow_up,
    my_customers,
    open_follow_ups,
    request_reassignment,
)
from posapp.services.members import enrol_member
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for

GUIDES = ("a-g1", "a-g2", "a-g3")


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[tuple[str, HqDatabase]]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    db = HqDatabase(url)
    migrate(db)
    with db.write() as session:
        admin.add_store(session, store_id="a", name="门店 a", now=now())
        for guide in GUIDES:
            admin.add_staff(session, store_id="a", name=f"导购 {guide}", role="guide", pin="2468",
                            now=now(), staff_id=guide)  # fmt: skip
        admin.add_staff(session, store_id="a", name="周店长", role="manager", pin="1357",
                        now=now(), staff_id="a-mgr")  # fmt: skip
        admin.add_staff(session, store_id="a", name="刘洋", role="cashier", pin="1111",
                        now=now(), staff_id="a-cash")  # fmt: skip
    with hq_process(url, tmp_path) as base:
        yield base, db
    db.close()


def _sync(db: Database, data: Path) -> None:
    SyncEngine(db, client_for(db, data)).run_once()


def _hq_figures(hq_db: HqDatabase, period: Period) -> dict[str, object]:
    span = {"store_id": "a", "since": period.since, "until": period.until}
    with hq_db.read() as s:
        capture = reports.capture_rate(s, **span)  # type: ignore[arg-type]
        enrolled = reports.enrolments(s, **span)  # type: ignore[arg-type]
        repurchase = reports.repurchase(s, **span)  # type: ignore[arg-type]
        done = reports.follow_ups(s, **span)  # type: ignore[arg-type]
        rungs = reports.rungs(s, store_id="a")
    return {
        "sales": (capture["sales"], capture["known"], capture["capture_rate"]),
        "by_day": {r["day"]: (r["sales"], r["known"]) for r in capture["by_day"]},
        "by_staff": {r["staff_id"] or "-": (r["sales"], r["known"]) for r in capture["by_staff"]},
        "enrolments": (enrolled["total"], enrolled["by_channel"], enrolled["by_guide"]),
        "rungs": rungs,
        "repurchase": (
            repurchase["buyers"],
            repurchase["repeat_buyers"],
            repurchase["repurchase_rate"],
        ),
        "follow_ups": (done["total"], done["by_staff"], done["by_channel"]),
    }


def _counter_figures(d: Dashboard) -> dict[str, object]:
    return {
        "sales": (d.capture.sales, d.capture.known, d.capture.capture_rate),
        "by_day": {c.key: (c.sales, c.known) for c in d.capture_by_day if c.sales},
        "by_staff": {c.key: (c.sales, c.known) for c in d.capture_by_staff},
        "enrolments": (d.enrolments, d.enrolments_by_channel, d.enrolments_by_guide),
        "rungs": d.rungs,
        "repurchase": (
            d.repurchase.buyers,
            d.repurchase.repeat_buyers,
            d.repurchase.repurchase_rate,
        ),
        "follow_ups": (
            d.follow_ups_completed,
            {g.guide_id: g.completed for g in d.follow_ups},
            {
                c: sum(g.by_channel.get(c, 0) for g in d.follow_ups)
                for c in sorted({c for g in d.follow_ups for c in g.by_channel})
            },
        ),
    }


def test_guides_work_syncs_and_the_dashboard_equals_hqs_reports(
    tmp_path: Path, hq: tuple[str, HqDatabase]
) -> None:
    base, hq_db = hq
    data = tmp_path / "till"
    db = registered_counter(data, base=base, hq_db=hq_db, store="a")
    _sync(db, data)  # the roster arrives
    notice = current_notice()
    start = now()
    members = []
    for n in range(12):
        guide = GUIDES[n % 3]
        consents = {Purpose.MEMBERSHIP} | ({Purpose.GUIDE_CONTACT} if n % 4 else set())
        with db.write() as s:
            members.append(
                enrol_member(s, phone=f"+86138{n:08d}", consents=consents, notice=notice,
                             staff_id=guide, store_id="a", name=f"顾客{n}").member_id
            )  # fmt: skip
        for visit in range(n % 3 + 1):
            with db.write() as s:
                record_sale(s, receipt_no=f"M{n}-{visit}", amount=str(50 + n), staff_id="a-cash",
                            member_id=members[-1])  # fmt: skip
    for n in range(9):  # walk-ins
        with db.write() as s:
            record_sale(s, receipt_no=f"W{n}", amount="19.9", staff_id=None if n % 2 else "a-cash")
    today = now().date()
    completed = 0
    with db.lookup() as lookup:
        rows = my_customers(lookup, "a-g1", today + timedelta(days=1))
    assert rows and all(r.phone_masked and "+86" not in r.phone_masked for r in rows)
    for row in rows:
        with db.lookup() as lookup:
            tasks = open_follow_ups(lookup, row.member_id, today)
        for task in tasks[:2]:
            with db.write() as s:
                complete_follow_up(s, task.id, "a-g1", ("wecom", "phone")[completed % 2],
                                   "reached")  # fmt: skip
            completed += 1
    assert completed >= 4
    moved = members[0]  # a-g1's customer
    with db.write() as s:
        request_reassignment(s, moved, "a-g2", "a-mgr")
    _sync(db, data)
    _sync(db, data)  # HQ's answer (the new guide) comes down
    with db.read() as s:
        guide = s.execute(text("SELECT guide_id FROM member WHERE id = :m"), {"m": moved}).scalar()
    assert guide == "a-g2"
    with db.lookup() as lookup:
        assert moved in {r.member_id for r in my_customers(lookup, "a-g2", today)}
        assert moved not in {r.member_id for r in my_customers(lookup, "a-g1", today)}
    with hq_db.read() as s:
        stored = s.execute(text("SELECT count(*), count(DISTINCT staff_id) FROM follow_up_done"))
        assert tuple(stored.one()) == (completed, 1)

    # Two more transfers: the second of them is WeCom's third in 90 days, refused at HQ.
    for to in ("a-g3", "a-g1"):
        with db.write() as s:
            request_reassignment(s, moved, to, "a-mgr")
        _sync(db, data)
        _sync(db, data)
    with db.read() as s:
        assert (
            s.execute(text("SELECT guide_id FROM member WHERE id = :m"), {"m": moved}).scalar()
            == "a-g3"
        )
        reasons = s.execute(text("SELECT detail FROM audit_log WHERE action = 'hq_rejected'")).scalars().all()  # fmt: skip
    assert any("twice in the last 90 days" in r for r in reasons)

    for period in (Period.today(start, "Asia/Shanghai"), Period.this_week(start, "Asia/Shanghai"),
                   Period(start - timedelta(minutes=1), now() + timedelta(minutes=1))):  # fmt: skip
        with db.lookup() as lookup:
            mine = _counter_figures(dashboard(lookup, period, store_id="a"))
        assert mine == _hq_figures(hq_db, period)
    assert mine["follow_ups"][0] == completed  # type: ignore[index]
    assert mine["sales"][0] == 9 + sum(n % 3 + 1 for n in range(12))  # type: ignore[index]
