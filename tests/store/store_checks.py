"""Invariants of a counter database, checked after the fact on a keyed connection outside SQLAlchemy."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from posapp.protocol.events import EVENT_TYPES, SCHEMA_VERSION
from posapp.store.db import connect_raw
from posapp.store.keys import DatabaseKey


def connect(path: Path, key: DatabaseKey | None = None) -> sqlite3.Connection:
    """A connection of our own, keyed but outside SQLAlchemy (it recovers the WAL of a killed
    writer); ``key`` for a copy outside its data folder."""
    conn = connect_raw(path, key=key, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def count(path: Path, table: str) -> int:
    conn = connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def dump(
    conn: sqlite3.Connection, table: str, columns: list[str] | None = None
) -> list[tuple[object, ...]]:
    """Every row of ``table`` in a stable order (only ``columns``, when a later schema added some)."""
    wanted = ", ".join(columns) if columns else "*"
    return conn.execute(f"SELECT {wanted} FROM {table} ORDER BY 1").fetchall()


def columns_of(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


@dataclass(frozen=True, slots=True)
class Ledger:
    receipts: set[str]
    events: int
    purchases: int
    members: int


def check_ledger(conn: sqlite3.Connection) -> Ledger:
    """Assert what every committed state must satisfy; return what it holds.

    The file is sound; outbox seqs are exactly 1..N with ``next_seq`` N+1; every purchase
    has exactly one ``sale.recorded`` event naming it and every such event names a
    purchase; every payload parses as its protocol model; member totals match purchases.
    """
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    rows = conn.execute(
        "SELECT seq, event_id, device_id, type, schema_version, payload"
        " FROM outbox_event ORDER BY seq"
    ).fetchall()
    seqs = [r[0] for r in rows]
    assert seqs == list(range(1, len(rows) + 1)), f"seq gaps: {seqs[:5]}...{seqs[-5:]}"
    device_id, next_seq = conn.execute(
        "SELECT device_id, next_seq FROM sync_state WHERE id = 1"
    ).fetchone()
    assert next_seq == len(rows) + 1
    assert len({r[1] for r in rows}) == len(rows), "duplicate event ids"

    sale_events: Counter[str] = Counter()
    for _seq, _event_id, event_device, kind, version, payload in rows:
        assert event_device == device_id
        assert version == SCHEMA_VERSION
        model = EVENT_TYPES[kind].model_validate_json(payload)
        # Exactly what was written reads back (a payload from before a field was added
        # lacks it: the field's default applies, and nothing else differs).
        assert json.loads(payload) == json.loads(model.model_dump_json(exclude_unset=True))
        if kind == "sale.recorded":
            sale_events[json.loads(payload)["purchase_id"]] += 1

    purchases = dict(conn.execute("SELECT id, receipt_no FROM purchase").fetchall())
    assert set(sale_events) == set(purchases), "a sale without its event, or an event alone"
    assert all(n == 1 for n in sale_events.values()), "a sale with two events"

    totals = conn.execute(
        "SELECT m.id, m.visit_count, m.lifetime_spend_fen,"
        " (SELECT count(*) FROM purchase p WHERE p.member_id = m.id),"
        " (SELECT coalesce(sum(amount_fen), 0) FROM purchase p WHERE p.member_id = m.id)"
        " FROM member m"
    ).fetchall()
    for member_id, visits, spend, purchase_count, purchase_sum in totals:
        assert (visits, spend) == (purchase_count, purchase_sum), member_id
    return Ledger(set(purchases.values()), len(rows), len(purchases), len(totals))


OLD_TABLES = (
    "store",
    "device",
    "staff",
    "member",
    "purchase",
    "consent_record",
    "outbox_event",
    "sync_state",
)
NEW_TABLES = ("invite", "follow_up", "audit_log", "rule_set")
