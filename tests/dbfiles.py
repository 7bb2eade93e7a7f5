"""Copying a counter database between data folders in tests: the file and its folder's key."""

from __future__ import annotations

import shutil
from pathlib import Path

from posapp.store.keys import FALLBACK


def copy_database(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` with the key that opens it (the tests keep keys in files)."""
    shutil.copyfile(source, target)
    key = source.parent / FALLBACK
    if key.exists() and source.parent != target.parent:
        shutil.copyfile(key, target.parent / FALLBACK)
    return target
