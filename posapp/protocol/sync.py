"""The sync wire format (v1) between a counter and HQ.

Both sides validate with these models: HQ every request, the counter every answer, so a
truncated or malformed message is refused whole and never half-applied.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

from posapp.protocol.changes import Change, MemberView

MAX_PUSH_EVENTS = 500
MAX_PAGE = 5_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(Strict):
    code: str = Field(min_length=6, max_length=64)
    device_name: str = Field(default="", max_length=128)
    # The counter's own id (a UUID it made on first start): events it recorded before
    # registering already carry it.
    device_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )


class RegisterResponse(Strict):
    device_id: str
    device_no: int
    store_id: str
    store_no: int
    store_name: str
    currency: str
    region: str
    device_secret: str
    invite_key: str  # hex; the store's own key for signing invites offline
    hq_time: datetime


class EventEnvelope(Strict):
    event_id: str = Field(min_length=1, max_length=64)
    device_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=1)
    type: str = Field(min_length=1, max_length=64)
    occurred_at: datetime
    schema_version: int = Field(ge=1)
    payload: dict[str, Any]


class PushRequest(Strict):
    events: list[EventEnvelope] = Field(max_length=MAX_PUSH_EVENTS)


class Rejection(Strict):
    event_id: str
    seq: int
    reason: str


class PushResponse(Strict):
    """``acked_through``: every seq up to it is in HQ's log, exactly once.

    ``expected_seq`` is set when the batch skipped ahead: resend from that seq. HQ applies
    the events behind this answer; one it cannot apply comes down as ``event.rejected``.
    ``flagged``: replays whose payload differs from what HQ holds, never applied.
    """

    acked_through: int
    expected_seq: int | None = None
    flagged: list[Rejection] = Field(default_factory=list)
    hq_time: datetime


class ChangesPage(Strict):
    # Read as the union of change kinds, written by each change's own class: the union's
    # serializer would double the cost of writing a snapshot page.
    changes: list[SerializeAsAny[Change]]
    cursor: str
    has_more: bool
    hq_time: datetime


class ApiError(Strict):
    """Every error HQ answers: a stable code and a plain sentence, never a trace."""

    error: str
    message: str


class MemberLookupRequest(Strict):
    """One full key of one member: a phone in E.164 or a member code, never a part of one
    (last four digits and names stay at the store: nobody enumerates another store's members)."""

    phone_e164: str | None = Field(default=None, max_length=20)
    member_code: str | None = Field(default=None, max_length=16)


class MemberLookupAnswer(Strict):
    """HQ's member for that key, as the feed sends it, with the name of the store they
    joined at; ``member`` is ``None`` for nobody (an erased member is nobody)."""

    member: MemberView | None = None
    enrolled_store_name: str = ""
