"""Seeding makes plausible, valid, unique members, the same for the same seed, in either mode;
a seeded store looks like a real one (weekly rhythm, walk-ins, a ladder, lapsed members)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import mean

import pytest

from posapp.domain.consent import Notice
from posapp.domain.ladder import CustomerStanding, LadderRules, assess
from posapp.domain.local_day import DEFAULT_ZONE, local_day
from posapp.domain.member_code import is_member_code
from posapp.domain.phone import parse_mobile
from posapp.services.dashboard import Dashboard, Period, dashboard
from posapp.store import seed as seeding
from posapp.store.migrate import open_database

NOW = datetime(2026, 11, 25, 12, 0)


@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "process"])
def test_seeded_members_are_valid_unique_and_repeatable(
    tmp_path: Path, notice: Notice, monkeypatch: pytest.MonkeyPatch, in_process: bool
) -> None:
    monkeypatch.setattr(seeding, "BATCH", 400)
    monkeypatch.setattr(seeding, "PROCESS_AT", 0 if in_process else 10**9)
    results = []
    for run in ("a", "b"):
        db = open_database(tmp_path / run / "posapp.db")
        try:
            result = seeding.seed_members(db, 1_000, notice=notice, now=NOW, seed=42)
            topped = seeding.seed_members(db, 500, notice=notice, now=NOW, seed=43)
            raw = db.raw()
            rows = raw.execute(
                "SELECT phone_e164, member_code FROM member ORDER BY phone_e164"
            ).fetchall()
            purchases = raw.execute("SELECT count(*) FROM purchase").fetchone()[0]
            orphans = raw.execute(
                "SELECT count(*) FROM member m WHERE NOT EXISTS (SELECT 1 FROM consent_record c"
                " WHERE c.member_id = m.id AND c.purpose = 'membership')"
            ).fetchone()[0]
            visits = raw.execute(
                "SELECT count(*) FROM member m WHERE visit_count !="
                " (SELECT count(*) FROM purchase p WHERE p.member_id = m.id)"
            ).fetchone()[0]
            events = raw.execute("SELECT count(*) FROM outbox_event").fetchone()[0]
            raw.close()
        finally:
            db.close()
        assert (result.members, topped.members) == (1_000, 500)
        assert len(rows) == 1_500 == len({p for p, _ in rows}) == len({c for _, c in rows})
        assert purchases == result.purchases + topped.purchases
        assert orphans == 0 and visits == 0
        assert events == 0  # demo data never syncs
        for phone, code in random.Random(1).sample(rows, 100):
            assert parse_mobile(phone) == phone
            assert is_member_code(code)
        results.append([p for p, _ in rows])
    assert results[0] == results[1]


# ---- a demo that looks like a store (issue 18) -----------------------------------------------


def _store_figures(path: Path, notice: Notice, seed: int) -> dict[str, object]:
    """A 2,000-member store as `posapp seed` and the demo make it, read through the dashboard
    service and direct SQL."""
    db = open_database(path)
    try:
        result = seeding.seed_store(db, 2_000, notice=notice, now=NOW, seed=seed)
        today = local_day(NOW, DEFAULT_ZONE)  # the seeded store keeps China's days
        with db.lookup() as lookup:
            quarter = dashboard(
                lookup, Period.days(today - timedelta(days=89), today, DEFAULT_ZONE)
            )
        raw = db.raw()
        members = raw.execute(
            "SELECT id, rung, guide_id, referrals, lifetime_spend_fen, last_visit_at FROM member"
        ).fetchall()
        days: dict[str, list[date]] = defaultdict(list)
        for member_id, at in raw.execute(
            "SELECT member_id, occurred_at FROM purchase WHERE member_id IS NOT NULL"
        ):
            days[member_id].append(datetime.fromisoformat(at).date())
        sales = raw.execute(
            "SELECT receipt_no, amount_fen, staff_id, guide_id, occurred_at FROM purchase"
            " ORDER BY receipt_no"
        ).fetchall()
        raw.close()
    finally:
        db.close()
    return {"result": result, "quarter": quarter, "members": members, "days": days,
            "sales": sales}  # fmt: skip


def test_a_seeded_store_looks_like_a_store(tmp_path: Path, notice: Notice) -> None:
    store = _store_figures(tmp_path / "a" / "posapp.db", notice, seed=18)
    result, quarter = store["result"], store["quarter"]
    assert isinstance(result, seeding.SeedResult) and isinstance(quarter, Dashboard)
    assert result.members == 2_000 and result.walk_ins > 0

    # Walk-ins who never joined: about 45 % of the last 90 days' sales have a known member.
    assert quarter.capture.capture_rate is not None
    assert 0.35 <= quarter.capture.capture_rate <= 0.55, quarter.capture
    assert quarter.capture.sales > 1_000
    # A weekly rhythm: Saturdays and Sundays sell more than weekdays.
    weekend = [c.sales for c in quarter.capture_by_day if date.fromisoformat(c.key).weekday() >= 5]
    weekday = [c.sales for c in quarter.capture_by_day if date.fromisoformat(c.key).weekday() < 5]
    assert mean(weekend) > 1.4 * mean(weekday), (mean(weekend), mean(weekday))
    # Not a flat line: the days' capture rates differ, none of them all members.
    rates = {c.capture_rate for c in quarter.capture_by_day if c.sales}
    assert len(rates) > 30 and max(r for r in rates if r is not None) < 1
    # Cashiers differ: one asks every buyer to scan, one rarely.
    by_cashier = sorted(c.capture_rate or 0 for c in quarter.capture_by_staff)
    assert by_cashier[-1] - by_cashier[0] > 0.15, quarter.capture_by_staff

    # The ladder: most members on the lower rungs, a few super-members who brought friends.
    rungs = quarter.rungs
    assert rungs.get("walk_in", 0) == 0  # every seeded member is a member at least
    assert rungs["member"] > rungs["regular"] > rungs["super_member"] > 0, rungs
    assert rungs["member"] > len(store["members"]) / 2  # type: ignore[arg-type]
    members: list[tuple] = store["members"]  # type: ignore[assignment, type-arg]
    assert all(referrals >= 1 for _, rung, _, referrals, _, _ in members if rung == "super_member")
    # Lapsed: members who have not been back for over a year.
    a_year_ago = NOW - timedelta(days=365)
    lapsed = [m for m in members if m[5] and datetime.fromisoformat(m[5]) < a_year_ago]
    assert len(lapsed) > 100 and all(m[1] == "member" for m in lapsed)
    # Each rung is what the ladder's rules say of the member's seeded facts.
    days: dict[str, list[date]] = store["days"]  # type: ignore[assignment]
    for member_id, rung, guide, referrals, spend, _ in members:
        standing = CustomerStanding(
            True, tuple(days[member_id]), spend, referrals, guide is not None
        )
        assert assess(standing, LadderRules(), NOW.date()).rung.value == rung, member_id
    # Guides' books differ: one looks after many customers, another few.
    books = Counter(guide for _, _, guide, _, _, _ in members if guide)
    assert len(books) == 3 and max(books.values()) > 3 * min(books.values()), books
    # A guided member's purchases are credited to the guide who served them: their own.
    sales: list[tuple] = store["sales"]  # type: ignore[assignment, type-arg]
    assert any(guide for _, _, _, guide, _ in sales)

    # The same seed, the same store (ids apart).
    again = _store_figures(tmp_path / "b" / "posapp.db", notice, seed=18)
    assert again["sales"] == sales
    assert again["result"] == result
