"""Tables of the counter's database. Money is integer fen with its currency; times are UTC."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from posapp.sqlnaming import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Store(Base):
    __tablename__ = "store"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    region: Mapped[str] = mapped_column(String(2), default="CN")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # HQ's short numbers for the store, this device and each staff member: they are what
    # an invite token carries (30 characters leave no room for ids).
    store_no: Mapped[int | None] = mapped_column(Integer)
    # The store's IANA zone, from HQ: every day the counter counts is a day on this clock.
    timezone: Mapped[str] = mapped_column(
        String(64), default="Asia/Shanghai", server_default="Asia/Shanghai"
    )


class Device(Base):
    __tablename__ = "device"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str | None] = mapped_column(ForeignKey("store.id"))
    name: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    device_no: Mapped[int | None] = mapped_column(Integer)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str | None] = mapped_column(ForeignKey("store.id"))
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    pin_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    staff_no: Mapped[int | None] = mapped_column(Integer)
    wecom_connected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Member(Base):
    """A customer with a known phone and membership consent, as this store knows them.

    ``phone_e164``/``phone_last4``/``name`` are personal data: erasure clears them
    and sets ``erased_at``; the row stays so anonymous sale facts keep their link.
    """

    __tablename__ = "member"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_code: Mapped[str] = mapped_column(String(16), unique=True)
    phone_e164: Mapped[str | None] = mapped_column(String(20), unique=True)
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    name: Mapped[str | None] = mapped_column(String(64))
    birthday: Mapped[date | None] = mapped_column(Date)
    rung: Mapped[str] = mapped_column(String(16), default="member")
    guide_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    enrolled_store_id: Mapped[str | None] = mapped_column(String(64))
    enrolled_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime)
    visit_count: Mapped[int] = mapped_column(Integer, default=0)
    lifetime_spend_fen: Mapped[int] = mapped_column(Integer, default=0)
    last_visit_at: Mapped[datetime | None] = mapped_column(DateTime)
    referrals: Mapped[int] = mapped_column(Integer, default=0)
    guardian_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # 'counter' when enrolled at this counter (NULL: joined by QR or elsewhere, learnt from HQ)
    # and the guide they joined with: assignments change guide_id later, not these.
    joined_via: Mapped[str | None] = mapped_column(String(16))
    joined_guide_id: Mapped[str | None] = mapped_column(String(64))
    # HQ's word: the member is a WeCom contact of this guide since then (NULL: not yet).
    wecom_guide_id: Mapped[str | None] = mapped_column(String(64))
    wecom_since: Mapped[datetime | None] = mapped_column(DateTime)
    wecom_removed_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_member_last4_recent", "phone_last4", text("last_visit_at DESC")),
        Index("ix_member_name", "name"),
        Index("ix_member_guide_id", "guide_id"),  # a guide's customers
        Index("ix_member_enrolled_by", "enrolled_by"),
        # The dashboard: enrolments in a range, and the rung distribution, from the index alone.
        Index(
            "ix_member_enrolled",
            "enrolled_at",
            "enrolled_store_id",
            "joined_via",
            "joined_guide_id",
            "guide_id",
        ),
        Index("ix_member_rung", "rung", "erased_at"),
    )


class MemberOtherCode(Base):
    """A card code that still finds its member after HQ merged two enrolments into one."""

    __tablename__ = "member_other_code"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)


class RungChange(Base):
    """HQ's record of a member's rung changes (the latest it sends): replaced whole by each
    member change from HQ, which owns the rung (0013)."""

    __tablename__ = "rung_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    from_rung: Mapped[str] = mapped_column(String(16))
    to_rung: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))


class Purchase(Base):
    """One sale at this counter; ``member_id`` is empty for a walk-in."""

    __tablename__ = "purchase"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36))
    receipt_no: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))  # rang it up
    guide_id: Mapped[str | None] = mapped_column(String(36))  # served the customer (0008)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"))
    source: Mapped[str] = mapped_column(String(16), default="typed")
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    # Another store's member code, scanned offline: HQ credits the sale to them (0009).
    member_code_ref: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("device_id", "receipt_no"),
        Index("ix_purchase_member_time", "member_id", "occurred_at"),
        Index("ix_purchase_time", "occurred_at"),
        # Members' sales by time, for the dashboard's repurchase rate over a range.
        Index(
            "ix_purchase_member_sales",
            "occurred_at",
            "member_id",
            sqlite_where=text("member_id IS NOT NULL"),
        ),
    )


class PurchaseDay(Base):
    """Sales and sales with a known member per local day of the store and staff member ('' for
    none).

    Kept by triggers on ``purchase`` (migrations 0007, 0010), so the dashboard's capture rate over a
    year reads a few hundred rows instead of millions of sales.
    """

    __tablename__ = "purchase_day"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sales: Mapped[int] = mapped_column(Integer)
    known: Mapped[int] = mapped_column(Integer)


class StoreUtcOffset(Base):
    """The store zone's UTC offset from each instant on: the tally's triggers find a sale's
    local day with it (SQLite has no time zones). Rewritten when HQ changes the zone."""

    __tablename__ = "store_utc_offset"
    from_utc: Mapped[str] = mapped_column(String(26), primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(Integer)


class ConsentRecord(Base):
    """Append-only: one row per grant or withdrawal, with the notice the customer saw."""

    __tablename__ = "consent_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    notice_id: Mapped[str] = mapped_column(String(64))
    notice_version: Mapped[int] = mapped_column(Integer)
    notice_language: Mapped[str] = mapped_column(String(16))
    notice_hash: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxEvent(Base):
    """A fact waiting for (or already acknowledged by) HQ; ``seq`` is gapless per device."""

    __tablename__ = "outbox_event"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    device_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    schema_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_outbox_event_pending", "seq", sqlite_where=text("acked_at IS NULL")),
    )


class SyncState(Base):
    """The single row that names this device and holds its event counter and HQ cursor."""

    __tablename__ = "sync_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36))
    store_id: Mapped[str | None] = mapped_column(String(64))
    next_seq: Mapped[int] = mapped_column(Integer, default=1)
    hq_url: Mapped[str | None] = mapped_column(String(256))
    cursor: Mapped[str | None] = mapped_column(String(128))
    last_push_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(512))
    clock_skew_s: Mapped[int | None] = mapped_column(Integer)
    snapshot_started_at: Mapped[datetime | None] = mapped_column(DateTime)


class Invite(Base):
    """A signed QR invite made at this counter, kept for our own attribution."""

    __tablename__ = "invite"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    serial: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[str | None] = mapped_column(String(64))
    member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"))
    purchase_id: Mapped[str | None] = mapped_column(ForeignKey("purchase.id"))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class FollowUp(Base):
    """A follow-up a guide completed. Open tasks are computed from the facts
    (:mod:`posapp.domain.follow_up`), so only completions are rows: ``id`` is the task's id,
    ``(member_id, kind, anchor_on)`` what keeps it done, ``guide_id`` who did it."""

    __tablename__ = "follow_up"
    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), index=True)
    guide_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    anchor_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_follow_up_done_by", "done_at", "guide_id", "channel"),)


class AuditEntry(Base):
    """Who did a sensitive thing and when; never the personal data itself."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    staff_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class RuleSet(Base):
    """Rules HQ pushes down (ladder thresholds, follow-up rules, channel URLs), as JSON."""

    __tablename__ = "rule_set"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
