"""Child of test_encryption: open (and so encrypt) a plaintext database, killed at a step.

Usage: encrypt_child.py DB_PATH STEP
The conversion's crash hook (``posapp.store.cipher.checkpoint``) is set here, in the test
entry point only: at STEP the process sends itself SIGKILL, as a power cut would stop it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from posapp.store import cipher
from posapp.store.migrate import open_database


def main() -> int:
    path, step = sys.argv[1:3]

    def die_at(reached: str) -> None:
        if reached == step:
            os.kill(os.getpid(), signal.SIGKILL)

    cipher.checkpoint = die_at
    open_database(Path(path)).close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
