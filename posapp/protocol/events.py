"""Facts a counter reports to HQ. Each event type has one payload model and a schema version.

Payloads are validated when they are written to the outbox, so HQ never receives
something this device could not have meant.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: ClassVar[str]
    # The newest version of this payload HQ reads; a device writes the oldest that holds
    # what it says (``schema_version``), so an HQ not yet upgraded still reads the rest.
    latest_version: ClassVar[int] = SCHEMA_VERSION

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION


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
    staff_id: str | None = None  # who rang it up
    member_id: str | None = None
    source: str = "typed"
    occurred_at: datetime
    guide_id: str | None = Field(default=None, max_length=64)  # the guide who served
    # Version 2: another store's member code scanned offline (never with ``member_id``);
    # HQ credits the sale to that member, or keeps it anonymous and says why.
    member_code_ref: str | None = Field(default=None, pattern=r"^9[0-9]{12}$")

    latest_version: ClassVar[int] = 2

    @property
    def schema_version(self) -> int:
        return 2 if self.member_code_ref is not None else SCHEMA_VERSION

    @model_validator(mode="after")
    def _one_member(self) -> SaleRecorded:
        if self.member_id is not None and self.member_code_ref is not None:
            raise ValueError("a sale names its member by member_id or member_code_ref, not both")
        return self


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


class ErasureApplied(EventPayload):
    """A store confirms it deleted an erased member's personal data."""

    type: ClassVar[str] = "erasure.applied"
    member_id: str


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


class FollowUpCompleted(EventPayload):
    """A guide contacted a customer for one follow-up task; no personal data, only codes.

    ``follow_up_id`` is the task's id (member, kind and the fact it grew from); HQ keeps one
    completion per id.
    """

    type: ClassVar[str] = "follow_up.completed"
    follow_up_id: str = Field(min_length=1, max_length=96)
    member_id: str = Field(min_length=1, max_length=64)
    kind: Literal["thank_you", "care_check", "repurchase", "birthday", "win_back"]
    anchor_on: date
    due_on: date
    staff_id: str | None = Field(default=None, max_length=64)
    channel: Literal["wecom", "phone", "in_store"]
    outcome: Literal["reached", "no_answer", "visit_planned", "not_interested"]
    completed_at: datetime


class ReassignmentRequested(EventPayload):
    """A store manager asks HQ to give a customer to another guide; HQ decides (it owns
    assignments and the WeCom transfer limit) and the answer flows back as member data."""

    type: ClassVar[str] = "assignment.requested"
    member_id: str = Field(min_length=1, max_length=64)
    to_guide_id: str = Field(min_length=1, max_length=64)
    manager_id: str = Field(min_length=1, max_length=64)
    requested_at: datetime


EVENT_TYPES: dict[str, type[EventPayload]] = {
    cls.type: cls
    for cls in (
        SaleRecorded,
        MemberEnrolled,
        ConsentChanged,
        SaleLinked,
        ErasureApplied,
        InviteIssued,
        FollowUpCompleted,
        ReassignmentRequested,
    )
}
