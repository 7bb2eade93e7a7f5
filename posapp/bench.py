"""Counter benchmarks: our service layer beside raw sqlite3 on the same file, in one run."""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from posapp.domain.phone import national_digits
from posapp.services.members import identify
from posapp.services.sales import record_sale
from posapp.store.cipher import sqlcipher
from posapp.store.db import Database
from posapp.store.lookup import MEMBER_BY_PHONE
from posapp.store.migrate import open_database
from posapp.store.seed import SEED_DEVICE, member_count

SAMPLES = 2_000
WARMUP = 200


def _percentiles(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1e6
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6
    return p50, p99


def _time_each(
    inputs: list[Any], action: Callable[[Any], object], *, warm: bool = True
) -> tuple[float, float]:
    """p50 and p99 in ms of ``action`` over ``inputs``.

    ``warm``: one unmeasured pass over the same inputs first, so ours and the raw baseline
    are compared with the same page-cache state (steady state at the counter). Without
    it only the first WARMUP inputs are unmeasured (a cold first look-up of each member).
    """
    for item in inputs if warm else inputs[:WARMUP]:
        action(item)
    samples = []
    for item in inputs if warm else inputs[WARMUP:]:
        start = time.perf_counter_ns()
        action(item)
        samples.append(time.perf_counter_ns() - start)
    return _percentiles(samples)


def _rss_mb() -> float:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak_kb / 1024, 1)


def _sample(conn: sqlite3.Connection, column: str, count: int) -> list[str]:
    total = conn.execute("SELECT max(rowid) FROM member").fetchone()[0] or 0
    rng = random.Random(7)
    values: list[str] = []
    while len(values) < count:
        rowids = [rng.randrange(1, total + 1) for _ in range(count)]
        marks = ",".join("?" * len(rowids))
        values += [
            r[0]
            for r in conn.execute(
                f"SELECT {column} FROM member WHERE rowid IN ({marks}) AND {column} IS NOT NULL",
                rowids,
            )
        ]
    rng.shuffle(values)
    return values[:count]


def ensure_members(data_dir: Path, members: int) -> None:
    """Top the database up to ``members`` in a child process, so seeding's memory is not ours."""
    db = open_database(data_dir / "posapp.db")
    try:
        have = member_count(db)
    finally:
        db.close()
    if have < members:  # members and their purchases only: the figures stay comparable
        subprocess.run(
            [sys.executable, "-m", "posapp", "--data-dir", str(data_dir), "seed",
             "--members", str(members - have), "--no-walk-ins"],
            check=True,
        )  # fmt: skip


def run(
    data_dir: Path, members: int, samples: int = SAMPLES, *, encrypt: bool = True
) -> dict[str, Any]:
    """``encrypt=False`` measures a plaintext copy as it is (the comparison for SQLCipher's
    cost); it is never seeded, since seeding opens it as the counter would: encrypted."""
    if encrypt:
        ensure_members(data_dir, members)
    db = open_database(data_dir / "posapp.db", encrypt=encrypt)
    try:
        return _measure(db, samples)
    finally:
        db.close()


def _measure(db: Database, samples: int) -> dict[str, Any]:
    raw = db.raw()
    total = raw.execute("SELECT count(*) FROM member").fetchone()[0]
    n = samples + WARMUP
    phones = _sample(raw, "phone_e164", n)
    codes = _sample(raw, "member_code", n)
    last4s = [p[-4:] for p in _sample(raw, "phone_e164", n)]
    typed = [national_digits(p) for p in phones]  # as a cashier types them

    def with_lookup(query: str) -> object:
        with db.lookup() as lookup:
            return identify(lookup, query)

    def raw_phone(e164: str) -> object:
        """The same member query our service runs, on a bare sqlite3 connection."""
        return raw.execute(MEMBER_BY_PHONE, (e164,)).fetchone()

    def bare_phone(e164: str) -> object:
        return raw.execute("SELECT id FROM member WHERE phone_e164 = ?", (e164,)).fetchone()

    result: dict[str, Any] = {"members": total}
    result["identify_phone_cold_p50_ms"], result["identify_phone_cold_p99_ms"] = _time_each(
        typed, with_lookup, warm=False
    )
    result["identify_phone_p50_ms"], result["identify_phone_p99_ms"] = _time_each(
        typed, with_lookup
    )
    result["identify_phone_raw_p50_ms"], result["identify_phone_raw_p99_ms"] = _time_each(
        phones, raw_phone
    )
    result["identify_phone_bare_p50_ms"], _ = _time_each(phones, bare_phone)
    result["identify_code_p50_ms"], result["identify_code_p99_ms"] = _time_each(codes, with_lookup)
    result["identify_last4_p50_ms"], result["identify_last4_p99_ms"] = _time_each(
        last4s, with_lookup
    )

    member_ids = _sample(raw, "id", n)
    stamp = time.time_ns()
    counter = iter(range(10**9))

    def sale(member_id: str) -> object:
        i = next(counter)
        with db.write() as session:
            return record_sale(
                session,
                receipt_no=f"B{stamp}-{i}",
                amount=12_800,
                staff_id="demo-c1",
                member_id=member_id if i % 2 == 0 else None,
            )

    def raw_sale(_: int) -> None:
        i = next(counter)
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(
            "INSERT INTO purchase (id, device_id, receipt_no, amount_fen, currency, staff_id,"
            " member_id, source, occurred_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (f"raw-{stamp}-{i}", SEED_DEVICE, f"RAW{stamp}-{i}", 12_800, "CNY", "demo-c1",
             None, "typed", "2026-01-01 00:00:00.000000"),
        )  # fmt: skip
        raw.execute(
            "INSERT INTO audit_log (at, staff_id, action, subject_id, detail)"
            " VALUES ('2026-01-01 00:00:00.000000', 'demo-c1', 'bench', NULL, ?)",
            ('{"receipt_no": "RAW"}',),
        )
        raw.execute("COMMIT")

    result["record_sale_p50_ms"], result["record_sale_p99_ms"] = _time_each(member_ids, sale)
    result["record_sale_raw_p50_ms"], result["record_sale_raw_p99_ms"] = _time_each(
        list(range(n)), raw_sale
    )
    # The baseline's rows are not sales anyone made: take them out again.
    raw.execute("DELETE FROM purchase WHERE id LIKE 'raw-%'")
    raw.execute("DELETE FROM audit_log WHERE action = 'bench'")
    raw.close()

    for key, value in list(result.items()):
        if key.endswith("_ms"):
            result[key] = round(value, 4)
    result["identify_phone_ratio"] = round(
        result["identify_phone_p50_ms"] / result["identify_phone_raw_p50_ms"], 1
    )
    result["record_sale_ratio"] = round(
        result["record_sale_p50_ms"] / result["record_sale_raw_p50_ms"], 1
    )
    result["rss_mb"] = _rss_mb()
    result["machine"] = f"{platform.machine()} {os.cpu_count()} cores, {platform.system()}"
    result["python"] = platform.python_version()
    result["sqlite"] = sqlcipher.sqlite_version
    result["encrypted"] = db.encrypted
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    return result


TARGETS = {
    "identify_phone_p99_ms": 1.0,
    "identify_code_p99_ms": 1.0,
    "identify_last4_p99_ms": 2.0,
    "record_sale_p99_ms": 5.0,
    "identify_phone_ratio": 10.0,
    "record_sale_ratio": 10.0,
    "rss_mb": 150.0,
}


def verdicts(result: dict[str, Any]) -> dict[str, bool]:
    return {key: result[key] <= limit for key, limit in TARGETS.items()}


def as_json(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False)
