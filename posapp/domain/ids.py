"""Identifiers made on the device without asking anyone: time-ordered UUIDv7."""

from __future__ import annotations

import uuid6


def new_id() -> str:
    return str(uuid6.uuid7())
