"""What HQ's admin API says about a guide's WeCom account."""

from __future__ import annotations

from pydantic import BaseModel, Field
from typing_extensions import TypedDict


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


class GuideContacts(TypedDict):
    """One guide's WeCom funnel in the period (the transfers they took over)."""

    store_id: str
    guide_id: str
    invites_shown: int  # contact QRs made for invites (one per invite)
    added: int  # customers who added the guide
    kept_30_days: int  # of ``settled_30_days``, still a contact 30 days after the add
    settled_30_days: int  # contacts added at least 30 days ago
    removed: int  # customers who removed the guide
    transfers_done: int
    transfers_refused: int  # the customer refused, the guide was full, or WeCom refused


class WeComReport(TypedDict):
    since: str
    until: str
    by_guide: list[GuideContacts]
    totals: dict[str, int]
