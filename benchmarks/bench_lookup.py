"""`make bench` (look-up part): a member of another store recognised at the counter via HQ.

Targets, with 1,000,000 members across 100 stores at HQ: HQ's handler alone p99 ≤ 10 ms;
the counter's scan → card for a member it does not hold (its local miss, the HTTP look-up
on loopback to a real ``posapp hq serve``, keeping the member, identifying them again)
p99 ≤ 150 ms. Each sample asks for a different member, as a till does: every answer adds
the asking store as a holder and one change to its feed.

(a) handler: ``posapp.hq.lookup.serve`` (the route's whole work, one write transaction),
    in process (no HTTP, no FastAPI), half by phone and half by member code;
(b) scan → card: ``services.hq_lookup.identify_in_brand`` at a registered counter.

``--members`` sets the size (the lead runs 1,000,000 on an idle machine; 20,000 checks it
works). ``--postgres`` runs on a throwaway PostgreSQL cluster, ``--database-url`` on a given
database; the default is a throwaway SQLite file.
Prints one JSON line; exits 1 when a p99 misses its target.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, text
from stdnum import luhn

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bench_invite import percentiles
from hq_load import hq_process
from pgcluster import PgCluster
from sync_world import registered_counter

from posapp.domain.ids import new_id
from posapp.hq import admin
from posapp.hq import lookup as lookups
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.hq.models import Consent, Member, MemberStore
from posapp.protocol.sync import MemberLookupRequest
from posapp.services.hq_lookup import identify_in_brand
from posapp.store.seed import MOBILE_PREFIXES
from posapp.sync.lookup import hq_asker

HANDLER_P99_MS = 10.0
SCAN_TO_CARD_P99_MS = 150.0
CHUNK = 20_000
WARM_UP = 20


def phone_of(n: int) -> str:
    return f"+86{MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]}{n:08d}"


def code_of(n: int) -> str:
    body = f"9{n:011d}"
    return body + luhn.calc_check_digit(body)


def seed(db: HqDatabase, *, members: int, stores: int) -> float:
    """``members`` members spread over ``stores`` stores, in bulk; returns the seconds taken."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.write() as session:
        for s in range(stores):
            admin.add_store(session, store_id=f"s{s:03d}", name=f"门店 {s:03d}", now=now)
    started = time.perf_counter()
    for start in range(0, members, CHUNK):
        numbers = range(start, min(start + CHUNK, members))
        ids = {n: new_id() for n in numbers}
        rows = [
            {"id": ids[n], "member_code": code_of(n), "phone_e164": phone_of(n), "name": "会员",
             "rung": "member", "home_store_id": f"s{n % stores:03d}", "enrolled_at": now,
             "visit_count": 0, "lifetime_spend_fen": 0, "referrals": 0, "updated_at": now}
            for n in numbers
        ]  # fmt: skip
        with db.write() as session:
            conn = session.connection()
            conn.execute(insert(Member.__table__), rows)
            conn.execute(
                insert(MemberStore.__table__),
                [{"member_id": ids[n], "store_id": f"s{n % stores:03d}"} for n in numbers],
            )
            conn.execute(
                insert(Consent.__table__),
                [{"member_id": ids[n], "purpose": "membership", "granted": True,
                  "notice_id": "privacy", "notice_version": 1, "notice_language": "zh-CN",
                  "notice_hash": "a" * 64, "source": "store", "store_id": f"s{n % stores:03d}",
                  "recorded_at": now} for n in numbers],
            )  # fmt: skip
    with db.engine.connect() as conn:  # as autovacuum would, in time, after a bulk load
        conn.execute(text("ANALYZE"))
        conn.commit()
    return time.perf_counter() - started


def handler(db: HqDatabase, numbers: list[int]) -> list[float]:
    """HQ's look-up for each member in turn, as the route runs it, minus HTTP."""
    timings = []
    for i, n in enumerate(numbers):
        body = (
            MemberLookupRequest(phone_e164=phone_of(n))
            if i % 2
            else MemberLookupRequest(member_code=code_of(n))
        )
        device = f"bench-device-{i % 50}"
        started = time.perf_counter()
        answer = lookups.serve(db, device_id=device, store_id="s000", request=body,
                               limit=1_000_000, now=datetime.now(UTC).replace(tzinfo=None))  # fmt: skip
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.member is not None, n
    return timings[WARM_UP:]


def scan_to_card(url: str, db: HqDatabase, data: Path, numbers: list[int]) -> list[float]:
    """The counter of store s001 scans members it does not hold, one after another."""
    env = {"POSAPP_HQ_LOOKUP_LIMIT_PER_MINUTE": "1000000"}
    timings = []
    with hq_process(url, data, env=env) as base:
        counter = registered_counter(data / "counter", base=base, hq_db=db, store="s001")
        ask = hq_asker(counter, data / "counter")
        assert ask is not None
        try:
            for i, n in enumerate(numbers):
                raw = phone_of(n)[3:] if i % 2 else code_of(n)  # as typed, or as scanned
                started = time.perf_counter()
                found = identify_in_brand(counter, raw, ask=ask, region="CN")
                timings.append((time.perf_counter() - started) * 1000)
                assert found.found.card is not None, (raw, found.asked)
        finally:
            counter.close()
    return timings[WARM_UP:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--database-url", default=None, help="default: a throwaway SQLite file")
    parser.add_argument(
        "--postgres", action="store_true", help="on a throwaway PostgreSQL cluster instead"
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="posapp-bench-lookup-")))
        url = args.database_url or f"sqlite:///{data / 'hq.db'}"
        if args.postgres:
            url = stack.enter_context(PgCluster()).create_database("lookup")
        db = HqDatabase(url)
        migrate(db)
        seeded = seed(db, members=args.members, stores=args.stores)
        if not db.is_sqlite:  # as a running HQ is: statistics known, no autovacuum mid-run
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        # members of stores other than the two askers, each asked for once
        pool = [n for n in range(args.members) if n % args.stores not in (0, 1)]
        picked = random.Random(15).sample(pool, min(len(pool), 2 * (args.samples + WARM_UP)))
        half = len(picked) // 2
        at_hq = percentiles(handler(db, picked[:half]))
        at_counter = percentiles(scan_to_card(url, db, data, picked[half:]))
        db.close()
    result = {
        "bench": "lookup",
        "members": args.members,
        "stores": args.stores,
        "database": url.split(":", 1)[0],
        "seed_s": round(seeded, 1),
        "handler_ms": at_hq,
        "scan_to_card_ms": at_counter,
        "targets_ms": {"handler_p99": HANDLER_P99_MS, "scan_to_card_p99": SCAN_TO_CARD_P99_MS},
    }
    print(json.dumps(result))
    ok = at_hq["p99"] <= HANDLER_P99_MS and at_counter["p99"] <= SCAN_TO_CARD_P99_MS
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
