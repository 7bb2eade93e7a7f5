"""`make bench` (HQ part): ingest from 200 concurrent counters, and a 1,000,000-member snapshot.

Runs against a throwaway PostgreSQL 15 cluster (started here, removed after) and the
default SQLite file, with real `posapp hq serve` processes over loopback HTTP.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hq_load import hq_process, provision, run_load
from pgcluster import PgCluster

from posapp.domain.ids import new_id
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.ingest import backlog
from posapp.hq.migrate import migrate
from posapp.hq.models import Consent, Member, MemberStore
from posapp.store.seed import MOBILE_PREFIXES


def ingest(
    url: str, data_dir: Path, *, processes: int, devices: int, batches: int, size: int
) -> dict[str, Any]:
    with ExitStack() as stack:
        urls = [stack.enter_context(hq_process(url, data_dir)) for _ in range(processes)]
        sims = provision(url, data_dir, stores=20, devices=devices, urls=urls)
        result = run_load(sims, batches=batches, batch_size=size)
        # Pushes are acknowledged once in the log; HQ's projectors apply them behind that.
        db = HqDatabase(url)
        started = time.perf_counter()
        while True:
            with db.read() as session:
                if backlog(session) == 0:
                    break
            time.sleep(0.05)
        applied_after = time.perf_counter() - started
    with db.read() as session:
        stored, distinct = session.execute(
            text("SELECT count(*), count(DISTINCT event_id) FROM event")
        ).one()
        gaps = session.execute(
            text("SELECT count(*) FROM (SELECT device_id FROM event GROUP BY device_id"
                 " HAVING count(*) <> max(seq) OR min(seq) <> 1) AS g")
        ).scalar_one()  # fmt: skip
    db.close()
    return {
        "processes": processes,
        "devices": devices,
        "events": result.events,
        "seconds": round(result.seconds, 2),
        "events_per_s": round(result.per_second),
        "applied_after_s": round(applied_after, 2),
        "applied_events_per_s": round(result.events / (result.seconds + applied_after)),
        "stored": stored,
        "lost": result.events - stored,
        "duplicates": stored - distinct,
        "devices_with_gaps": gaps,
    }


def seed_store(url: str, *, members: int, store: str = "big") -> tuple[str, float]:
    """One store holding ``members`` members (bulk rows); returns a device code and the seconds taken."""
    db = HqDatabase(url)
    migrate(db)
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.write() as session:
        admin.add_store(session, store_id=store, name="大店", now=now)
        code = admin.device_code(session, store_id=store, now=now, minutes=60)
    started = time.perf_counter()
    chunk = 20_000
    for start in range(0, members, chunk):
        ids = [new_id() for _ in range(min(chunk, members - start))]
        rows = [
            {"id": m, "member_code": f"9{start + i:011d}0", "phone_e164":
             f"+86{MOBILE_PREFIXES[(start + i) % len(MOBILE_PREFIXES)]}{(start + i):08d}",
             "name": "会员", "rung": "member", "home_store_id": store, "enrolled_at": now,
             "visit_count": 0, "lifetime_spend_fen": 0, "referrals": 0, "updated_at": now}
            for i, m in enumerate(ids)
        ]  # fmt: skip
        with db.write() as session:
            conn = session.connection()
            conn.execute(insert(Member.__table__), rows)
            conn.execute(
                insert(MemberStore.__table__), [{"member_id": m, "store_id": store} for m in ids]
            )
            conn.execute(
                insert(Consent.__table__),
                [{"member_id": m, "purpose": "membership", "granted": True, "notice_id": "privacy",
                  "notice_version": 1, "notice_language": "zh-CN", "notice_hash": "a" * 64,
                  "source": "store", "store_id": store, "recorded_at": now} for m in ids],
            )  # fmt: skip
    seeded = time.perf_counter() - started
    with db.engine.connect() as conn:  # as autovacuum would, in time, after a bulk load
        conn.execute(text("ANALYZE"))
        conn.commit()
    db.close()
    return code, seeded


def snapshot(url: str, data_dir: Path, *, members: int) -> dict[str, Any]:
    """Seed one store with ``members`` members, then a new counter pulls its whole snapshot."""
    code, seeded = seed_store(url, members=members)
    with hq_process(url, data_dir) as base:
        body = requests.post(f"{base}/v1/devices/register", json={"code": code}, timeout=30).json()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {body['device_secret']}"
        cursor, rows_seen, pages = None, 0, 0
        waited = parsed = 0.0
        began = time.perf_counter()
        while True:
            params: dict[str, Any] = {"limit": 5000}
            if cursor:
                params["cursor"] = cursor
            t0 = time.perf_counter()
            answer = session.get(f"{base}/v1/sync/changes", params=params, timeout=120)
            t1 = time.perf_counter()
            page = answer.json()
            waited += t1 - t0
            parsed += time.perf_counter() - t1
            rows_seen += sum(1 for c in page["changes"] if c["kind"] == "member")
            pages += 1
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        elapsed = time.perf_counter() - began
    return {
        "members": members,
        "seed_seconds": round(seeded, 1),
        "members_received": rows_seen,
        "pages": pages,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows_seen / elapsed),
        "seconds_waiting_for_hq": round(waited, 2),
        "seconds_parsing_json": round(parsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--snapshot-members", type=int, default=1_000_000)
    args = parser.parse_args()
    results: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d")}
    with PgCluster() as pg, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results["postgresql_ingest"] = ingest(
            pg.create_database("ingest"), work, processes=2, devices=args.devices,
            batches=args.batches, size=args.batch_size,
        )  # fmt: skip
        print(json.dumps(results["postgresql_ingest"]), flush=True)
        results["sqlite_ingest"] = ingest(
            f"sqlite:///{work / 'hq.db'}", work, processes=1, devices=args.devices,
            batches=args.batches, size=args.batch_size,
        )  # fmt: skip
        print(json.dumps(results["sqlite_ingest"]), flush=True)
        results["postgresql_snapshot"] = snapshot(
            pg.create_database("snapshot"), work, members=args.snapshot_members
        )
        print(json.dumps(results["postgresql_snapshot"]), flush=True)
    print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
