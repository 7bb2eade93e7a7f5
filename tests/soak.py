"""`make soak` runs the fault and model tests far longer than CI does (POSAPP_SOAK=1)."""

from __future__ import annotations

import os

SOAK = os.environ.get("POSAPP_SOAK") == "1"


def scale(ci: int, soak: int) -> int:
    return soak if SOAK else ci
