"""Files that hold customers' data or secrets are the owner's alone: 0600, in a 0700 folder.

A till is a shared PC under a counter, often with more than one login: the database, its
WAL and shared-memory files, backups, logs, settings and the device secret are created
readable by this user only, and an existing looser file or folder is tightened when posapp
opens it. Windows keeps its own ACLs (the user's profile folder), so this is POSIX only.
Stdlib only: the counter's store, its settings and logs, and HQ all use it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
POSIX = os.name == "posix"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if need be; ``path`` itself ends up 0700."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if POSIX and path.stat().st_mode & 0o777 != PRIVATE_DIR:
        with contextlib.suppress(PermissionError):  # not ours: leave it, the files stay 0600
            path.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists and is 0600: created empty if missing (SQLite takes an
    empty file as a new database, and gives its WAL and -shm files the same mode)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        os.close(fd)
    except FileExistsError:
        pass
    tighten(path)
    return path


def tighten(*paths: Path) -> None:
    """Set each existing file among ``paths`` to 0600 (missing ones are skipped)."""
    if not POSIX:
        return
    for path in paths:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if Path(path).stat().st_mode & 0o777 != PRIVATE_FILE:
                os.chmod(path, PRIVATE_FILE)


def sqlite_files(db: Path) -> tuple[Path, Path, Path]:
    """The database file and the WAL and shared-memory files SQLite keeps beside it."""
    db = Path(db)
    return db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
