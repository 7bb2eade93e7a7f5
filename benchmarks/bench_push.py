"""`make bench` (sync part): a counter pushes a backlog of 100,000 events to HQ.

The backlog is made by the counter's own services (sales, enrolments with their consents,
consent changes), so the outbox holds exactly what a counter that was offline for a long
time would hold. The push runs end to end: the sync engine reads the outbox, POSTs batches
of 500 to a real `posapp hq serve` on SQLite, and records each acknowledgement.

The bare baseline in the same run: the very same batches, taken from the outbox in seq
order, POSTed by a plain loop (one requests.Session) to `bare_ingest.py`, an endpoint on
the same stack that only inserts them. Targets: posapp ≤ 30 s, and
bare_seconds / posapp_seconds ≥ 0.5.

HQ acknowledges a batch once it is in its event log and applies it behind the answer, so
the report also gives how long HQ took after the push to apply the whole backlog, and the
time from the push's start until the counter's next pull (which waits for that) is done.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from bare_ingest import bare_process
from bare_ingest import count as bare_count
from hq_load import free_port, hq_process
from sqlalchemy import text
from sync_world import now, registered_counter

from posapp.domain.consent import Purpose
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.ingest import backlog
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.members import change_consent, enrol_member
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.outbox import pending_count
from posapp.store.seed import MOBILE_PREFIXES
from posapp.sync.engine import BATCH, RoundResult, SyncEngine
from posapp.sync.registration import client_for

STORE = "push"
MAX_SECONDS = 30.0
MIN_RATIO = 0.5
ACTIONS_PER_TRANSACTION = 250  # setup only: one fsync per 250 counter actions, not per action


def make_hq(url: str) -> tuple[HqDatabase, list[str]]:
    """HQ's database with the store and its roster; returns the staff ids."""
    hq_db = HqDatabase(url)
    migrate(hq_db)
    staff = []
    with hq_db.write() as session:
        admin.add_store(session, store_id=STORE, name="门店 推送", now=now())
        for n, (name, role) in enumerate(
            (("王芳", "guide"), ("李娜", "guide"), ("刘洋", "cashier"))
        ):
            staff.append(f"{STORE}-{role}-{n}")
            admin.add_staff(session, store_id=STORE, name=name, role=role, pin="2468", now=now(),
                            staff_id=staff[-1])  # fmt: skip
    return hq_db, staff


def make_backlog(db: Database, events: int, staff: list[str], *, seed: int = 7) -> Counter[str]:
    """Exactly ``events`` outbox events, made by the counter's services.

    Per 100 events, roughly: 88 sales (a third of them a member's), 5 walk-ins who join
    right after paying (the sale, then the enrolment naming it), 3 enrolments on their own,
    3 consent changes. Several actions share a transaction here only to keep the set-up
    quick; each writes the same rows and event as it does at the counter.
    """
    rng = random.Random(seed)
    notice = current_notice()
    made: Counter[str] = Counter()
    members: list[str] = []
    marketing: dict[str, bool] = {}
    phones: set[str] = set()
    receipts = 0

    def phone() -> str:
        while True:
            candidate = f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
            if candidate not in phones:
                phones.add(candidate)
                return candidate

    def enrol(session: Any, purchase_id: str | None) -> None:
        consents = {Purpose.MEMBERSHIP}
        if rng.random() < 0.5:
            consents.add(Purpose.MARKETING)
        guide = rng.choice(staff[:2])
        result = enrol_member(session, phone=phone(), consents=consents, notice=notice,
                              staff_id=guide, purchase_id=purchase_id)  # fmt: skip
        assert result.created
        members.append(result.member_id)
        marketing[result.member_id] = Purpose.MARKETING in consents
        made["member.enrolled"] += 1

    def sale(session: Any, member_id: str | None) -> str:
        nonlocal receipts
        receipts += 1
        result = record_sale(session, receipt_no=f"P{receipts:07d}", amount=rng.randrange(100, 99_900),
                             staff_id=rng.choice(staff), member_id=member_id, source="pos")  # fmt: skip
        made["sale.recorded"] += 1
        return result.purchase_id

    while (left := events - made.total()) > 0:
        with db.write() as session:
            for _ in range(min(ACTIONS_PER_TRANSACTION, left)):
                left = events - made.total()
                if left <= 0:
                    break
                roll = rng.random()
                if roll < 0.05 and left >= 2:
                    enrol(session, sale(session, None))
                elif roll < 0.08:
                    enrol(session, None)
                elif roll < 0.11 and members:
                    member = rng.choice(members)
                    marketing[member] = not marketing[member]
                    assert change_consent(session, member_id=member, purpose=Purpose.MARKETING,
                                          granted=marketing[member], notice=notice,
                                          staff_id=rng.choice(staff))  # fmt: skip
                    made["consent.changed"] += 1
                else:
                    member = rng.choice(members) if members and rng.random() < 0.33 else None
                    sale(session, member)
    return made


def outbox_batches(db: Database) -> list[list[dict[str, Any]]]:
    """The pending outbox in seq order, cut into the engine's batches, as the engine sends them."""
    rows = (
        db.raw()
        .execute(
            "SELECT event_id, device_id, seq, type, occurred_at, schema_version, payload"
            " FROM outbox_event WHERE acked_at IS NULL ORDER BY seq"
        )
        .fetchall()
    )
    events = [
        {"event_id": r[0], "device_id": r[1], "seq": r[2], "type": r[3],
         "occurred_at": _iso(r[4]), "schema_version": r[5], "payload": json.loads(r[6])}
        for r in rows
    ]  # fmt: skip
    return [events[i : i + BATCH] for i in range(0, len(events), BATCH)]


def _iso(stored: str) -> str:
    # SQLite holds "YYYY-MM-DD HH:MM:SS.ffffff"; the engine sends datetime.isoformat().
    return stored.replace(" ", "T", 1)


def bare_push(url: str, batches: list[list[dict[str, Any]]]) -> float:
    """The bare loop: each batch POSTed in turn on one session; returns the seconds taken."""
    http = requests.Session()
    started = time.perf_counter()
    for events in batches:
        answer = http.post(f"{url}/v1/sync/push", json={"events": events}, timeout=60)
        answer.raise_for_status()
        if answer.json()["acked_through"] != events[-1]["seq"]:
            raise RuntimeError(f"bare ingest did not take batch ending {events[-1]['seq']}")
    return time.perf_counter() - started


def hq_holds(hq_db: HqDatabase, device_id: str) -> dict[str, int]:
    with hq_db.read() as session:
        row = session.execute(
            text("SELECT count(*), count(DISTINCT seq), min(seq), max(seq),"
                 " sum(CASE WHEN status = 'applied' THEN 0 ELSE 1 END)"
                 " FROM event WHERE device_id = :d"),
            {"d": device_id},
        ).one()  # fmt: skip
    stored, distinct, low, high, not_applied = row
    return {"events": stored, "distinct_seqs": distinct, "min_seq": low or 0,
            "max_seq": high or 0, "not_applied": not_applied or 0}  # fmt: skip


def wait_until_applied(hq_db: HqDatabase, limit: float = 600.0) -> float:
    """Seconds until HQ's projector has applied every event it acknowledged."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        with hq_db.read() as session:
            if backlog(session) == 0:
                break
        time.sleep(0.05)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--no-targets", action="store_true",
                        help="check the counts only, not the time targets (for the smoke test)")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'hq.db'}"
        hq_db, staff = make_hq(url)
        with hq_process(url, work) as base:
            db = registered_counter(work / "till", base=base, hq_db=hq_db, store=STORE)
            engine = SyncEngine(db, client_for(db, work / "till"))
            engine.run_once()  # the store and its roster arrive; nothing to push yet
            started = time.perf_counter()
            mix = make_backlog(db, args.events, staff)
            setup = time.perf_counter() - started
            with db.read() as session:
                pending = pending_count(session)
            batches = outbox_batches(db)
            device_id = batches[0][0]["device_id"]
            if pending != args.events or sum(map(len, batches)) != args.events:
                raise SystemExit(
                    f"FAIL: the outbox holds {pending} pending events, not {args.events}"
                )

            with bare_process(work / "bare.db", work, port=free_port()) as bare_url:
                bare_seconds = bare_push(bare_url, batches)
            bare_stored = bare_count(work / "bare.db", device_id)

            result = RoundResult()
            started = time.perf_counter()
            engine.push(result)
            posapp_seconds = time.perf_counter() - started
            with db.read() as session:
                left = pending_count(session)
            # Behind the acknowledgements HQ applies the backlog; the counter's next pull
            # waits for its own events to be applied, so it is timed as well.
            started = time.perf_counter()
            applied_seconds = wait_until_applied(hq_db)
            engine.pull(result)  # HQ's refusals, if any, come down here
            pull_seconds = time.perf_counter() - started
            db.close()
        held = hq_holds(hq_db, device_id)
        hq_db.close()
    report = {
        "events": args.events, "mix": dict(sorted(mix.items())), "batches": len(batches),
        "setup_seconds": round(setup, 1), "pushed": result.pushed, "rejected": result.rejected,
        "pending_after": left, "hq_events": held["events"], "hq_not_applied": held["not_applied"],
        "bare_events": bare_stored,
        "bare_seconds": round(bare_seconds, 2), "posapp_seconds": round(posapp_seconds, 2),
        "ratio": round(bare_seconds / posapp_seconds, 3),
        "bare_events_per_s": round(args.events / bare_seconds),
        "posapp_events_per_s": round(args.events / posapp_seconds),
        "applied_after_push_s": round(applied_seconds, 2),
        "push_to_pulled_s": round(posapp_seconds + pull_seconds, 2),
    }  # fmt: skip
    print(json.dumps(report, ensure_ascii=False))
    sys.stdout.flush()
    problems = []
    span = held["max_seq"] - held["min_seq"] + 1
    if (held["events"], held["distinct_seqs"], span, held["not_applied"]) != (args.events,) * 3 + (
        0,
    ):
        problems.append(f"HQ holds {held} for the device, expected {args.events} applied events")
    if result.pushed != args.events or result.rejected or left:
        problems.append(f"engine pushed {result.pushed}, rejected {result.rejected}, left {left}")
    if bare_stored != args.events:
        problems.append(f"the bare endpoint stored {bare_stored} events, not {args.events}")
    if not args.no_targets:
        if posapp_seconds > MAX_SECONDS:
            problems.append(f"posapp took {posapp_seconds:.1f} s > {MAX_SECONDS:.0f} s")
        if bare_seconds / posapp_seconds < MIN_RATIO:
            problems.append(f"ratio {bare_seconds / posapp_seconds:.3f} < {MIN_RATIO}")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
