"""`posapp` as the crash tests run it: the sync engine dies at the crash point the environment names.

Usage: crashing_sync.py POSAPP-ARGUMENTS... with ``POSAPP_CRASH_AT`` set to a ``CrashPoint``.
The engine itself reads no environment: this test entry point injects its checkpoint.
"""

from __future__ import annotations

import os
import signal
import sys
from functools import partial

from posapp.cli import main
from posapp.sync import engine

CRASH_ENV = "POSAPP_CRASH_AT"


def die_at(target: str, point: engine.CrashPoint) -> None:
    """Killed at once, as a power cut would: no cleanup, no commit."""
    if point == target:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


if __name__ == "__main__":
    target = os.environ.get(CRASH_ENV)
    if target:
        engine.SyncEngine = partial(engine.SyncEngine, checkpoint=partial(die_at, target))  # type: ignore[misc]
    raise SystemExit(main(sys.argv[1:]))
