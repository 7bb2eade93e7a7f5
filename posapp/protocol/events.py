"""Facts a counter reports to HQ. Each event type has one payload model and a schema version.

Payloads are validated when they are written to the outbox, so HQ never receives
something this device could not have meant.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: ClassVar[str]


class NoticeRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    notice_id: str = Field(max_length=64)
    version: int = Field(ge=1)
    language: str = Field(max_length=16)
    text_hash: str = Field(min_length=64, max_length=64)


class ConsentChoice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    purpose: Literal["membership", "marketing", "guide_contact"]
    granted: bool
    notice: NoticeRef


class SaleRecorded(EventPayload):
    type: ClassVar[str] = "sale.recorded"
    purchase_id: str
    receipt_no: str = Field(max_length=64)
    amount_fen: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    staff_id: str | None = None
    member_id: str | None = None
    source: str = "typed"
    occurred_at: datetime


class MemberEnrolled(EventPayload):
    type: ClassVar[str] = "member.enrolled"
    member_id: str
    member_code: str
    phone_e164: str = Field(max_length=20)
    name: str | None = Field(default=None, max_length=64)
    birthday: date | None = None
    guardian_consent: bool = False
    staff_id: str | None = None
    guide_id: str | None = None
    purchase_id: str | None = None
    consents: list[ConsentChoice]
    enrolled_at: datetime


class ConsentChanged(EventPayload):
    type: ClassVar[str] = "consent.changed"
    member_id: str
    staff_id: str | None = None
    choice: ConsentChoice
    changed_at: datetime


class SaleLinked(EventPayload):
    """A walk-in sale that turned out to belong to a member (enrolled right after paying)."""

    type: ClassVar[str] = "sale.linked"
    purchase_id: str
    member_id: str


EVENT_TYPES: dict[str, type[EventPayload]] = {
    cls.type: cls for cls in (SaleRecorded, MemberEnrolled, ConsentChanged, SaleLinked)
}


class ErasureApplied(EventPayload):
    """A store confirms it deleted an erased member's personal data."""

    type: ClassVar[str] = "erasure.applied"
    member_id: str


EVENT_TYPES[ErasureApplied.type] = ErasureApplied


class InviteIssued(EventPayload):
    """A QR invite shown or printed at the counter; lets HQ credit the sale and the guide."""

    type: ClassVar[str] = "invite.issued"
    token: str = Field(min_length=30, max_length=30)
    channel: Literal["mini_program", "micro_mall", "app", "guide_contact"]
    referral: bool = False
    staff_id: str | None = None
    member_id: str | None = None
    purchase_id: str | None = None
    issued_at: datetime


EVENT_TYPES[InviteIssued.type] = InviteIssued
