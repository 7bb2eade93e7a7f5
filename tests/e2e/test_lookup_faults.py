"""The counter's look-up at a real HQ process that refuses (429: the counter's minute is
used up) or is gone: the walk-in path, within the budget, saying HQ could not be asked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hq_load import hq_process
from sqlalchemy import text
from sync_world import now, registered_counter

from posapp.cli import main
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.services.hq_lookup import identify_in_brand
from posapp.sync.client import LOOKUP_BUDGET_S
from posapp.sync.lookup import hq_asker

LIMIT = 2


def test_over_its_rate_then_with_hq_gone_the_counter_serves_a_walk_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    hq_db = HqDatabase(url)
    migrate(hq_db)
    with hq_db.write() as session:
        admin.add_store(session, store_id="b", name="Store B", now=now())
    (tmp_path / "hq").mkdir()
    env = {"POSAPP_HQ_LOOKUP_LIMIT_PER_MINUTE": str(LIMIT)}
    with hq_process(url, tmp_path / "hq", env=env) as base:
        db = registered_counter(tmp_path / "b", base=base, hq_db=hq_db, store="b")
        ask = hq_asker(db, tmp_path / "b")
        answers = [identify_in_brand(db, f"1380000000{i}", ask=ask) for i in range(LIMIT + 1)]
        assert [a.asked is not None and a.asked.failed == "" for a in answers] == [True] * LIMIT + [
            False
        ]
        refused = answers[-1]
        assert refused.found.card is None and refused.hq_could_not_be_asked
        assert refused.asked is not None and "429" in refused.asked.failed
        with hq_db.read() as session:
            outcomes = [r.outcome for r in session.execute(
                text("SELECT outcome FROM member_lookup ORDER BY id"))]  # fmt: skip
        assert outcomes == ["not_found"] * LIMIT + ["rate_limited"]
    started = time.monotonic()  # HQ is gone now
    gone = identify_in_brand(db, "13800000009", ask=ask)
    assert time.monotonic() - started < LOOKUP_BUDGET_S
    assert gone.found.card is None and gone.hq_could_not_be_asked
    db.close()
    assert main(["--data-dir", str(tmp_path / "b"), "identify", "13800000009"]) == 1
    said = capsys.readouterr().out
    assert "no member found: a walk-in" in said and "HQ could not be asked" in said
    hq_db.close()
