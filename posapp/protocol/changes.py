"""Facts HQ sends down to a counter: one model per change kind, beside the events that go up.

HQ builds every change through these models and the counter validates each page with them
when it arrives, so a malformed change fails its page whole (a bad answer, tried again next
round) and is never half-applied. The data models ignore fields they do not know: a newer HQ
may say more than an older counter reads, and the counter keeps syncing. They are slotted
dataclasses, not ``BaseModel``s: a snapshot page holds thousands of members, and a model's
per-instance dict and field set (more objects for the garbage collector to walk) made HQ's
snapshot pages a third slower to write and the counter's decoding half again as slow.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.dataclasses import dataclass

_DATA = ConfigDict(extra="ignore")


@dataclass(frozen=True, slots=True, kw_only=True, config=_DATA)
class ChangeData:
    """What one change says; each kind below has its own."""

    def to_json(self) -> str:
        """As HQ's feed stores it and sends it."""
        return _adapter(type(self)).dump_json(self).decode()


@cache
def _adapter(kind: type[ChangeData]) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


HISTORY_SENT = 20  # a member's latest rung changes that come down with them


@dataclass(frozen=True, slots=True, kw_only=True, config=_DATA)
class RungMove:
    """One change of a member's rung, as HQ recorded it: ``reason`` is a
    ``domain.ladder.MoveReason`` (or a newer one this counter does not name)."""

    at: datetime
    from_rung: str
    to_rung: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True, config=_DATA)
class MemberView(ChangeData):
    """What a store keeps of a member: enough to recognise them offline, phone included.

    ``home_store_id`` is the store the member joined at; the counter keeps it as
    ``member.enrolled_store_id`` (the wire keeps HQ's name)."""

    member_id: str
    member_code: str
    other_codes: list[str] = Field(default_factory=list)  # cards of enrolments merged into it
    phone_e164: str | None = None
    name: str | None = None
    birthday: date | None = None
    rung: str = "member"
    guide_id: str | None = None
    home_store_id: str | None = None
    enrolled_at: datetime | None = None
    visit_count: int = 0
    lifetime_spend_fen: int = 0
    last_visit_at: datetime | None = None
    referrals: int = 0
    consents: dict[str, bool] = Field(default_factory=dict)  # purpose → HQ's latest decision
    # The member is a WeCom (企业微信) contact of this guide since then (HQ's posapp.hq.wecom);
    # no date: not a WeCom contact (yet).
    wecom_guide_id: str | None = None
    wecom_since: datetime | None = None
    # Not a contact because the customer removed this guide then: the guide's win-back.
    wecom_removed_at: datetime | None = None
    # HQ's record of the member's rung changes, oldest first: the latest ``HISTORY_SENT``
    # (an older HQ sends none, and the counter keeps what it had).
    rung_history: list[RungMove] | None = None


@dataclass(
    frozen=True,
    slots=True,
    kw_only=True,
    config=ConfigDict(extra="ignore", serialize_by_alias=True, validate_by_name=True),
)
class MemberMerged(ChangeData):
    """The store's member id ``from`` is HQ's member ``into`` (one customer, enrolled twice)."""

    from_id: str = Field(alias="from")
    into: str


@dataclass(frozen=True, slots=True, kw_only=True, config=_DATA)
class MemberErased(ChangeData):
    """The member's personal data is deleted everywhere; ``local_ids``: this store's own ids
    for them, merged into ``member_id`` at HQ."""

    member_id: str = ""
    local_ids: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True, config=_DATA)
class StaffView(ChangeData):
    staff_id: str | None = None
    staff_no: int | None = None
    store_id: str | None = None
    name: str
    role: str
    pin_hash: str | None = None
    active: bool = True
    # HQ holds the guide's WeCom (企业微信) account: customers can add them as a contact.
    wecom_connected: bool = False


@dataclass(frozen=True, slots=True, kw_only=True, config=_DATA)
class StoreAssigned(ChangeData):
    """The store this counter belongs to; the first change of every snapshot, and again
    when HQ changes the store (its time zone). ``timezone``: the IANA zone the store keeps
    its days in (None from an HQ that does not send it: the counter keeps its own)."""

    snapshot: bool = False
    timezone: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_DATA)
class EventRejected(ChangeData):
    """HQ could not apply one of this store's events; the reason is kept in the audit log."""

    event_id: str = ""
    device_id: str = ""
    seq: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True, config=_DATA)
class SaleCredited(ChangeData):
    """A walk-in's sale, credited at HQ to the customer who joined through its QR."""

    member_id: str = ""


class ChangeEnvelope(BaseModel):
    """What every change carries; each kind below names its ``data``."""

    model_config = ConfigDict(extra="forbid")
    seq: int
    kind: str
    key: str
    data: Any


class MemberChange(ChangeEnvelope):
    kind: Literal["member"] = "member"
    data: MemberView


class MergedChange(ChangeEnvelope):
    kind: Literal["member.merged"] = "member.merged"
    data: MemberMerged


class ErasedChange(ChangeEnvelope):
    kind: Literal["member.erased"] = "member.erased"
    data: MemberErased


class StaffChange(ChangeEnvelope):
    kind: Literal["staff"] = "staff"
    data: StaffView


class RulesChange(ChangeEnvelope):
    """``key``: the rule set's kind; ``data``: its body, HQ's document kept as it is."""

    kind: Literal["rules"] = "rules"
    data: dict[str, Any]


class RejectedChange(ChangeEnvelope):
    kind: Literal["event.rejected"] = "event.rejected"
    data: EventRejected


class StoreChange(ChangeEnvelope):
    kind: Literal["store"] = "store"
    data: StoreAssigned


class SaleMemberChange(ChangeEnvelope):
    kind: Literal["sale.member"] = "sale.member"
    data: SaleCredited


Change = Annotated[
    MemberChange
    | MergedChange
    | ErasedChange
    | StaffChange
    | RulesChange
    | RejectedChange
    | StoreChange
    | SaleMemberChange,
    Field(discriminator="kind"),
]

CHANGE_TYPES: dict[str, type[ChangeEnvelope]] = {
    kind.model_fields["kind"].default: kind for kind in get_args(get_args(Change)[0])
}


def change_of(*, seq: int, kind: str, key: str, data: Any) -> ChangeEnvelope:
    """The typed change for a row of HQ's feed (its ``data`` as stored, already parsed)."""
    return CHANGE_TYPES[kind](seq=seq, key=key, data=data)
