"""Finding files in ``resources/`` from a source checkout, an installed package or a frozen app."""

from __future__ import annotations

import sys
from pathlib import Path

from posapp.domain.consent import Notice

NOTICE_ID = "privacy"
NOTICE_VERSION = 1
# The notice in one line, where its whole text has no room (the join page, the buyer's
# keypad on the customer display); ``{version}`` is the notice's version.
NOTICE_LINES = {
    "zh-CN": "加入前请阅读《会员隐私政策》（第 {version} 版）：我们只为您同意的用途处理您的手机号码和消费记录。",
    "en": "Before joining, please read the privacy notice (version {version}): we use your phone number and purchases only for the purposes you agree to.",
}


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def notice_text(language: str = "zh-CN", version: int = NOTICE_VERSION) -> str:
    path = resources_dir() / "notices" / f"{NOTICE_ID}-v{version}.{language}.md"
    return path.read_text(encoding="utf-8")


def notice_line(language: str = "zh-CN", version: int = NOTICE_VERSION) -> str:
    """The brand's privacy line in the notice's language (Chinese when there is none)."""
    return NOTICE_LINES.get(language, NOTICE_LINES["zh-CN"]).format(version=version)


def current_notice(language: str = "zh-CN") -> Notice:
    """The privacy notice staff show at enrolment; consents record its hash."""
    return Notice.from_text(NOTICE_ID, NOTICE_VERSION, language, notice_text(language))
