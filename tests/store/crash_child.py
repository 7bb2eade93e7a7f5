"""Child of test_crash: record sales until killed, acknowledging each one after it commits.

Usage: crash_child.py DB_PATH PREFIX MEMBER_ID STAFF_ID
Waits for a line on stdin (so the parent can start it early and say "go" later), then
records sale after sale, every other one for the member, and prints each receipt number
once its transaction has committed. A background checkpointer runs often, so a kill can
also land in the middle of a checkpoint.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from posapp.services.sales import record_sale
from posapp.store.db import Checkpointer, Database

MAX_SALES = 2_000  # a child the parent forgot about still ends on its own
MAX_SECONDS = 20.0


def main() -> int:
    path, prefix, member_id, staff_id = sys.argv[1:5]
    if not sys.stdin.readline():
        return 0  # the parent went away before saying go
    db = Database(Path(path))
    checkpointer = Checkpointer(db.raw, interval=0.003)
    checkpointer.start()
    ends = time.monotonic() + MAX_SECONDS
    for i in range(1, MAX_SALES + 1):
        receipt = f"{prefix}-{i}"
        with db.write() as s:
            record_sale(
                s,
                receipt_no=receipt,
                amount=(i * 37) % 5_000 + 1,
                staff_id=staff_id,
                member_id=member_id if i % 2 else None,
            )
        sys.stdout.write(receipt + "\n")
        sys.stdout.flush()
        if time.monotonic() > ends:
            break
    checkpointer.stop()
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
