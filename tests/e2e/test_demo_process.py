"""`posapp --demo` as a process: it stops its own HQ when told to stop, and even when killed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests


def _start(data: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "posapp", "--data-dir", str(data), "--demo"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 90
    for line in process.stderr:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/j/", line)
        if found:
            # Keep reading: a demo whose stderr pipe fills up blocks on its next log line
            # and could not exit when told to.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, found.group(1)
        assert time.monotonic() < deadline, "the demo did not start"
    raise AssertionError(f"the demo ended early ({process.wait()})")


def _hq_gone(url: str, within: float = 20) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/healthz", timeout=1)
        except requests.ConnectionError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_the_demo_takes_its_hq_with_it(tmp_path: Path, how: signal.Signals) -> None:
    process, hq = _start(tmp_path / "demo")
    try:
        assert requests.get(f"{hq}/healthz", timeout=5).status_code == 200
        process.send_signal(how)
        code = process.wait(timeout=30)
        if how == signal.SIGTERM:
            assert code == 0  # closed properly: window, sync, database
        assert _hq_gone(hq), "the demo's HQ outlived it"
    finally:
        if process.poll() is None:
            process.kill()
