"""Finding files in ``resources/`` from a source checkout, an installed package or a frozen app."""

from __future__ import annotations

import sys
from pathlib import Path

from posapp.domain.consent import Notice

NOTICE_ID = "privacy"
NOTICE_VERSION = 1


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def notice_text(language: str = "zh-CN", version: int = NOTICE_VERSION) -> str:
    path = resources_dir() / "notices" / f"{NOTICE_ID}-v{version}.{language}.md"
    return path.read_text(encoding="utf-8")


def current_notice(language: str = "zh-CN") -> Notice:
    """The privacy notice staff show at enrolment; consents record its hash."""
    return Notice.from_text(NOTICE_ID, NOTICE_VERSION, language, notice_text(language))
