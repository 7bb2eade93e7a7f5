"""`benchmarks/bench_gui.py` at a tiny size: the window answers every scan with the right
card, and the whole backlog leaves during the stall probe (no timing asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_gui_runs_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_gui.py"), "--data-dir",
         str(tmp_path / "till"), "--members", "400", "--samples", "10", "--events", "600",
         "--no-targets"],
        cwd=ROOT / "benchmarks", capture_output=True, text=True, timeout=240,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["members"] == 400 and report["samples"] == 10
    assert report["sync_events"] == 600 and report["probe_ticks"] > 0
    assert 0 < report["scan_to_card_p50_ms"] <= report["scan_to_card_max_ms"]
    assert report["key_answer_samples"] == 12 * 10  # every key answered visibly, 10 times
    assert set(report["key_answer_worst_by_key_ms"]) >= {"F1", "F4", "F5", "F8", "F9", "F12"}
