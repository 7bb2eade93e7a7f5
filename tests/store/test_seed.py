"""Seeding makes plausible, valid, unique members, the same for the same seed, in either mode."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pytest

from posapp.domain.consent import Notice
from posapp.domain.member_code import is_member_code
from posapp.domain.phone import parse_mobile
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
