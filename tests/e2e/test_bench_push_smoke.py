"""`benchmarks/bench_push.py` at a tiny size: it runs end to end and its counts are exact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_push_runs_and_counts_exactly() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_push.py"), "--events", "600",
         "--no-targets"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["events"] == 600
    assert sum(report["mix"].values()) == 600
    assert set(report["mix"]) == {"sale.recorded", "member.enrolled", "consent.changed"}
    assert report["batches"] == 2
    assert report["pushed"] == report["hq_events"] == report["bare_events"] == 600
    assert report["rejected"] == report["hq_not_applied"] == report["pending_after"] == 0
    for key in ("bare_seconds", "posapp_seconds", "ratio"):
        assert report[key] > 0
