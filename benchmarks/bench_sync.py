"""`make bench` (sync part): a new counter downloads a store of 1,000,000 members from HQ.

Measures the whole path a counter takes on first sync: HQ's snapshot pages over HTTP,
validation, and the local apply with its cursor, page by page.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench_hq import seed_store
from hq_load import hq_process
from sync_world import registered_counter

from posapp.hq.db import HqDatabase
from posapp.sync.engine import RoundResult, SyncEngine
from posapp.sync.registration import client_for


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'hq.db'}"
        _, seeded = seed_store(url, members=args.members)
        hq_db = HqDatabase(url)
        with hq_process(url, work) as base:
            db = registered_counter(work / "till", base=base, hq_db=hq_db, store="big")
            engine = SyncEngine(db, client_for(db, work / "till"))
            started = time.perf_counter()
            result = RoundResult()
            engine.pull(result)
            elapsed = time.perf_counter() - started
            members = db.raw().execute("SELECT count(*) FROM member").fetchone()[0]
            db.close()
        hq_db.close()
    print(json.dumps({"members_at_hq": args.members, "hq_seed_seconds": round(seeded, 1),
                      "changes_applied": result.applied, "members_at_counter": members,
                      "seconds": round(elapsed, 1), "rows_per_s": round(members / elapsed)}))  # fmt: skip


if __name__ == "__main__":
    main()
