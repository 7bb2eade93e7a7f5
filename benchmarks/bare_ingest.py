"""The bare baseline for `bench_push.py`: an endpoint that only inserts the batches it is sent.

Same server stack as HQ (FastAPI under uvicorn, one process, access log off) and the same
SQLite durability (WAL, synchronous=FULL), but nothing else: no auth, no validation beyond
parsing the JSON, no derived state. One POST route; each batch is one transaction that
inserts a row (device_id, seq, body) per event.

Run as a process: ``python benchmarks/bare_ingest.py --db PATH --port N``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from hq_load import served

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS event (device_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " body TEXT NOT NULL, PRIMARY KEY (device_id, seq))"
)
INSERT = "INSERT INTO event (device_id, seq, body) VALUES (?, ?, ?)"


def create_app(db_path: Path) -> FastAPI:
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # as HQ's SQLite connections
    conn.execute(SCHEMA)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/sync/push")
    async def push(request: Request) -> dict[str, int]:
        events = json.loads(await request.body())["events"]
        rows = [(e["device_id"], e["seq"], json.dumps(e, ensure_ascii=False)) for e in events]
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(INSERT, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return {"acked_through": events[-1]["seq"] if events else 0}

    return app


def count(db_path: Path, device_id: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT count(*) FROM event WHERE device_id = ?", (device_id,)
        ).fetchone()[0]


@contextmanager
def bare_process(db_path: Path, log_dir: Path, *, port: int) -> Iterator[str]:
    """This module as a server on a loopback port; yields its base URL."""
    argv = [sys.executable, __file__, "--db", str(db_path), "--port", str(port)]
    with served(argv, log_dir / f"bare-{port}.log", port=port) as url:
        yield url


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(args.db)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
