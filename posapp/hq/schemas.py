"""The shapes of HQ's own answers (those the counter and the mini-program share are in
``posapp.protocol``).

Reads that ``admin`` and ``reports`` build as plain dicts, which scripts and tests index,
are ``TypedDict``s; answers a route builds are models. FastAPI checks both against the
same schema it publishes.
"""

from __future__ import annotations

from pydantic import BaseModel
from typing_extensions import TypedDict

# --- meta and devices -----------------------------------------------------------------------


class Health(BaseModel):
    status: str
    version: str


class ApplyingStatus(BaseModel):
    """Events acknowledged but not applied yet: a lag of minutes needs a look."""

    events_waiting: int
    devices_waiting: int
    oldest_waiting_s: float


class RotatedSecret(BaseModel):
    device_secret: str


class RevokedDevice(BaseModel):
    device_id: str
    store_id: str
    revoked_at: str  # RFC 3339, UTC
    accepted_through: int  # the last seq it pushed before revocation: applied, as every fact


# --- members --------------------------------------------------------------------------------


class ErasureDone(BaseModel):
    member_id: str
    erased_at: str
    stores: list[str]  # the stores that must apply it (and acknowledge, see ErasureStatus)


class ErasureStatus(TypedDict):
    member_id: str
    erased_at: str
    stores: dict[str, str | None]  # store → when it applied the erasure, or not yet


class Notice(TypedDict):
    notice_id: str
    version: int
    language: str
    text_hash: str


class ConsentRecord(TypedDict):
    purpose: str
    granted: bool
    source: str
    store_id: str | None
    staff_id: str | None
    notice: Notice
    recorded_at: str


class ConsentHistory(TypedDict):
    member_id: str
    consents: list[ConsentRecord]


class GuideAssigned(BaseModel):
    member_id: str
    guide_id: str
    previous_guide_id: str | None
    changed: bool
    transfers_in_window: int


# --- reports --------------------------------------------------------------------------------


class Capture(TypedDict):
    sales: int
    known: int
    capture_rate: float | None  # None: no sales to measure


class StoreCapture(Capture):
    store_id: str | None


class StaffCapture(Capture):
    staff_id: str | None


class GuideCapture(Capture):
    guide_id: str | None


class DayCapture(Capture):
    day: str | None


class CaptureReport(TypedDict):
    since: str
    until: str
    sales: int
    known: int
    capture_rate: float | None
    by_store: list[StoreCapture]
    by_staff: list[StaffCapture]
    by_guide: dict[str, int]  # the guide who served → sales ("-": none named)
    by_day: list[DayCapture]
    # The zone by_day's days are in: the store's own, or "store" brand-wide when stores keep
    # days in different zones (each sale counted on its own store's calendar).
    timezone: str


class EnrolmentReport(TypedDict):
    total: int
    by_channel: dict[str, int]
    by_guide: dict[str, int]


class RepurchaseReport(TypedDict):
    buyers: int
    repeat_buyers: int
    repurchase_rate: float | None


class FollowUpReport(TypedDict):
    since: str
    until: str
    total: int
    by_staff: dict[str, int]
    by_channel: dict[str, int]
    by_outcome: dict[str, int]
    by_kind: dict[str, int]


RungReport = dict[str, int]  # rung → members


# --- member look-ups ------------------------------------------------------------------------


class LookupRecord(TypedDict):
    """One counter's look-up of a member at HQ (posapp.hq.lookup), as an admin reads it."""

    at: str  # RFC 3339, UTC
    device_id: str
    store_id: str
    kind: str  # phone, member_code
    outcome: str  # found, not_found, rate_limited
    member_id: str | None
