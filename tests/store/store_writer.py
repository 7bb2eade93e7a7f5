"""A busy counter action loop, run by test_store_concurrency in threads and as a process.

As a script: store_writer.py DB_PATH WORKER WRITES MEMBER_ID STAFF_ID
It opens the database, prints "ready", waits for a line on stdin, writes, and prints a
JSON summary ``{"ok": n, "failures": [...]}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from posapp.domain.consent import Purpose
from posapp.resources import current_notice
from posapp.services.members import enrol_member
from posapp.services.sales import record_sale
from posapp.store.db import Database, StorageError
from posapp.store.migrate import open_database


def write_many(
    db: Database, worker: int, writes: int, member_id: str, staff_id: str
) -> tuple[int, list[str]]:
    """Sales (every other one for the shared member) and, each third write, an enrolment.

    Every successful write appends exactly one outbox event. Returns (successes, failures).
    """
    notice = current_notice("zh-CN")
    ok = 0
    failures: list[str] = []
    for i in range(writes):
        try:
            with db.write() as s:
                if i % 3 == 2:
                    enrolled = enrol_member(
                        s,
                        phone=f"139{worker:02d}{i:06d}",
                        consents={Purpose.MEMBERSHIP},
                        notice=notice,
                        staff_id=staff_id,
                    )
                    assert enrolled.created
                else:
                    record_sale(
                        s,
                        receipt_no=f"W{worker}-{i}",
                        amount=100 + i,
                        staff_id=staff_id,
                        member_id=member_id if i % 2 else None,
                    )
            ok += 1
        except StorageError as exc:
            failures.append(f"{exc.rule}: {exc.message}")
    return ok, failures


def main() -> int:
    path, worker, writes, member_id, staff_id = sys.argv[1:6]
    db = open_database(Path(path))
    try:
        print("ready", flush=True)
        if not sys.stdin.readline():
            return 1
        ok, failures = write_many(db, int(worker), int(writes), member_id, staff_id)
    finally:
        db.close()
    print(json.dumps({"ok": ok, "failures": failures}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
