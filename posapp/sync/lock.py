"""One sync worker per counter: a lock file in the data dir, held across app instances."""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from posapp.sync.client import HqError

LOCK_FILE = "sync.lock"


class SyncBusy(HqError):
    """Another posapp (a second window, or ``posapp sync --watch``) syncs this data dir."""

    def __init__(self) -> None:
        super().__init__("Another posapp is already syncing this counter's data.")


def take_sync_lock(data_dir: Path) -> FileLock:
    """The lock, held; raises ``SyncBusy`` at once if someone else holds it."""
    # Not thread-local: the window takes it on its sync thread and gives it back on closing.
    lock = FileLock(str(data_dir / LOCK_FILE), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SyncBusy() from None
    return lock
