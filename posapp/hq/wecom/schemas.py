"""What HQ's admin API says about a guide's WeCom account."""

from __future__ import annotations

from pydantic import BaseModel, Field


class GuideUserid(BaseModel):
    # WeCom's userid (通讯录 → 成员 → 账号): letters, digits and ``_-.@``, at most 64.
    userid: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")


class GuideWeCom(BaseModel):
    staff_id: str
    userid: str | None
    departed: bool
    # The guide's permanent contact QR (their printed card); none: why (``rule``).
    card_qr: str | None = None
    rule: str | None = None
