"""Crash reports go to the data dir's rotated log, with no personal data in them."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from posapp import crashlog
from posapp.crashlog import BACKUPS, REDACTED, install_crash_log, log_path, redact

PHONE = "+8613812345678"

CRASHING_CHILD = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from posapp.crashlog import install_crash_log

    install_crash_log(Path(sys.argv[1]))

    def enrol(phone, name):
        member_code = "M0000000018"
        raise ValueError(f"phone {phone} of {member_code} at {name.lower()}@example.cn refused")

    def worker():
        secret_phone = "139" + "12345670"
        {}[secret_phone]

    t = threading.Thread(target=worker, name="db-worker")
    t.start()
    t.join()
    customer = {"phone": "+86138" + "12345678", "name": "LI" + "NA"}
    enrol(**customer)
    """
)


def test_a_crash_is_logged_with_its_traceback_and_no_personal_data(tmp_path: Path) -> None:
    child = tmp_path / "crashing_child.py"
    child.write_text(CRASHING_CHILD, encoding="utf-8")
    crashed = subprocess.run(
        [sys.executable, str(child), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert crashed.returncode == 1
    assert "ValueError" in crashed.stderr  # the console, where there is one, still sees it
    text = log_path(tmp_path / "data").read_text(encoding="utf-8")
    assert "CRITICAL posapp.crash: unhandled ValueError" in text
    assert 'in enrol\n    raise ValueError(f"phone {phone}' in text  # the traceback, source lines
    assert "unhandled KeyError in thread db-worker" in text
    for personal in ("13812345678", "13912345670", "M0000000018", "lina@example.cn", "LINA"):
        assert personal.lower() not in text.lower(), personal
    assert text.count(REDACTED) >= 4


def test_redact_keeps_what_support_needs() -> None:
    assert redact(f"sale for {PHONE} failed") == f"sale for {REDACTED} failed"
    assert redact("138 1234 5678 / 138-1234-5678") == f"{REDACTED} / {REDACTED}"
    kept = "event 0190f7a0-0000-7000-8000-00000000d001 line 1234 seq 42 store_no 7"
    assert redact(kept) == kept


def test_the_log_rotates_and_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crashlog, "MAX_BYTES", 20_000)
    root = logging.getLogger()
    before = list(root.handlers)
    path = install_crash_log(tmp_path)
    try:
        assert install_crash_log(tmp_path) == path  # a second call adds no second handler
        added = [h for h in root.handlers if h not in before]
        assert len(added) == 1
        chatty = logging.getLogger("posapp.test")
        for n in range(crashlog.MAX_BYTES // 100 * (BACKUPS + 2)):
            chatty.info("sync page %d applied with %s", n, "x" * 60)
        files = sorted(path.parent.iterdir())
        assert [f.name for f in files] == ["posapp.log"] + [
            f"posapp.log.{n}" for n in range(1, BACKUPS + 1)
        ]
        assert sum(f.stat().st_size for f in files) <= crashlog.MAX_BYTES * (BACKUPS + 1)
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()


@pytest.fixture(autouse=True)
def _restore_hooks() -> object:
    saved_hook, saved_thread_hook = sys.excepthook, __import__("threading").excepthook
    yield
    sys.excepthook = saved_hook
    __import__("threading").excepthook = saved_thread_hook
