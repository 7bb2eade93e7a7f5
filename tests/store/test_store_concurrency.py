"""Several threads and several processes writing at once: seqs stay gapless, nobody is refused."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
from pathlib import Path

from roster import CASHIER
from store_checks import check_ledger, connect
from store_writer import write_many

from posapp.domain.consent import Notice, Purpose
from posapp.services.members import enrol_member
from posapp.store.db import Database

THREADS = 4
PROCESSES = 3
WRITES = 45  # per worker: 30 sales and 15 enrolments
WRITER = Path(__file__).with_name("store_writer.py")


def test_concurrent_threads_and_processes_take_gapless_seqs(
    db: Database, db_path: Path, notice: Notice
) -> None:
    with db.write() as s:
        member_id = enrol_member(
            s, phone="13812345678", consents={Purpose.MEMBERSHIP}, notice=notice, staff_id=CASHIER
        ).member_id
    procs = [
        subprocess.Popen(
            [sys.executable, str(WRITER), str(db_path), str(w), str(WRITES), member_id, CASHIER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(THREADS, THREADS + PROCESSES)
    ]
    go = threading.Event()
    results: list[tuple[int, list[str]]] = []
    crashes: list[BaseException] = []

    def in_thread(worker: int) -> None:
        go.wait()
        try:
            results.append(write_many(db, worker, WRITES, member_id, CASHIER))
        except BaseException as exc:
            crashes.append(exc)

    threads = [threading.Thread(target=in_thread, args=(w,)) for w in range(THREADS)]
    try:
        for proc in procs:  # every process has opened the file before anyone writes
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n", proc.communicate()[1]
        for thread in threads:
            thread.start()
        go.set()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            summary = json.loads(out)
            results.append((summary["ok"], summary["failures"]))
    finally:
        go.set()
        for thread in threads:
            thread.join()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    assert not crashes, crashes
    assert [failures for _, failures in results] == [[]] * (THREADS + PROCESSES)  # no "locked"
    successes = sum(ok for ok, _ in results)
    assert successes == (THREADS + PROCESSES) * WRITES
    conn = connect(db_path)
    try:
        ledger = check_ledger(conn)  # seqs exactly 1..N, unique event ids, sales whole
        assert ledger.events == successes + 1  # and the parent's own enrolment
        assert ledger.purchases == (THREADS + PROCESSES) * 30
        assert ledger.members == 1 + (THREADS + PROCESSES) * 15
        seqs_per_type = dict(
            conn.execute("SELECT type, count(*) FROM outbox_event GROUP BY type").fetchall()
        )
        assert seqs_per_type == {
            "sale.recorded": ledger.purchases,
            "member.enrolled": ledger.members,
        }
        rows = conn.execute("SELECT payload FROM outbox_event WHERE seq > 1 ORDER BY seq")
        writers = [_worker(payload) for (payload,) in rows]
    finally:
        conn.close()
    # They really ran at once: a thread and a process were both writing in the same stretch.
    spans = {w: (writers.index(w), len(writers) - writers[::-1].index(w)) for w in set(writers)}
    assert len(spans) == THREADS + PROCESSES
    assert any(
        spans[t][0] < spans[p][1] and spans[p][0] < spans[t][1]
        for t in range(THREADS)
        for p in range(THREADS, THREADS + PROCESSES)
    ), spans
    switches = sum(a != b for a, b in itertools.pairwise(writers))
    print(f"{switches} turns between writers in {len(writers)} events")


def _worker(payload: str) -> int:
    """Which worker wrote an event: receipts are W<worker>-<i>, phones +86139<worker:02>..."""
    body = json.loads(payload)
    if "receipt_no" in body:
        return int(body["receipt_no"][1:].split("-")[0])
    return int(body["phone_e164"][6:8])
