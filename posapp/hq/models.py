"""HQ's tables: canonical members across stores, the event log, the per-store change feed.

Portable between SQLite (the zero-set-up default) and PostgreSQL (at scale).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from posapp.sqlnaming import NAMING

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class HqState(Base):
    """One row: this HQ database's epoch, so cursors from another (restored) database are refused."""

    __tablename__ = "hq_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Counter(Base):
    """The single sequencer: change seqs are taken from here inside the writing transaction."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Store(Base):
    __tablename__ = "store"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_no: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(128))
    region: Mapped[str] = mapped_column(String(2), default="CN")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # The IANA zone the store keeps its days in (its reports, its counters' dashboards).
    timezone: Mapped[str] = mapped_column(
        String(64), default="Asia/Shanghai", server_default="Asia/Shanghai"
    )


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id"), index=True)
    staff_no: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    pin_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Device(Base):
    """A registered counter. HQ keeps only hashes of its secret (current and, while rotating, previous)."""

    __tablename__ = "device"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id"), index=True)
    device_no: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(128), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    # Secrets issued by rotations whose answers may have been lost (JSON list, oldest first):
    # each keeps working, with the previous one, until the counter uses one of them.
    unused_secret_hashes: Mapped[str | None] = mapped_column(Text)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    registered_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    clock_skew_s: Mapped[int | None] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("store_id", "device_no"),)


class DeviceCode(Base):
    """A one-time registration code: stored hashed, expires, used once."""

    __tablename__ = "device_code"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Credential(Base):
    """Partner (mini-program backend) and admin credentials, separate from devices."""

    __tablename__ = "credential"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


# What became of a logged event: waiting for the projector, applied, refused (its store is
# told why), or flagged (a replay that differs from the stored fact: kept, never applied).
RECEIVED, APPLIED, REJECTED, FLAGGED = "received", "applied", "rejected", "flagged"

_RECEIVED: dict[str, Any] = {
    "sqlite_where": text("status = 'received'"),
    "postgresql_where": text("status = 'received'"),
}


class Event(Base):
    """Every fact a device pushed, exactly once, with what HQ made of it."""

    __tablename__ = "event"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    store_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    schema_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    payload_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(256))

    __table_args__ = (
        UniqueConstraint("device_id", "seq"),
        # Only the projector's backlog is indexed: a few rows, not every fact ever pushed.
        Index("ix_event_received", "id", **_RECEIVED),
        Index("ix_event_received_device", "device_id", "id", **_RECEIVED),
    )


class EventConflict(Base):
    """A replayed event_id whose payload differs from the stored one: flagged, never applied."""

    __tablename__ = "event_conflict"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    payload_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Member(Base):
    """The canonical member: one per normalised phone across every store."""

    __tablename__ = "member"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_code: Mapped[str] = mapped_column(String(16), unique=True)
    phone_e164: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(64))
    birthday: Mapped[date | None] = mapped_column(Date)
    rung: Mapped[str] = mapped_column(String(16), default="member")
    guide_id: Mapped[str | None] = mapped_column(String(64))
    home_store_id: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime)
    visit_count: Mapped[int] = mapped_column(Integer, default=0)
    lifetime_spend_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    last_visit_at: Mapped[datetime | None] = mapped_column(DateTime)
    referrals: Mapped[int] = mapped_column(Integer, default=0)
    referred_by: Mapped[str | None] = mapped_column(String(64))
    wechat_openid: Mapped[str | None] = mapped_column(String(64))
    wechat_unionid: Mapped[str | None] = mapped_column(String(64))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # What the ladder last assessed the rung from (JSON, ``members.standing_text``): the next
    # rung change says which of it moved them (hq0014). NULL: never assessed.
    standing: Mapped[str | None] = mapped_column(Text)


class RungChange(Base):
    """A member's rung moved: when, from, to, and why (``domain.ladder.MoveReason``)."""

    __tablename__ = "rung_change"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    from_rung: Mapped[str] = mapped_column(String(16))
    to_rung: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_rung_change_member_id", "member_id", "id"),)


class MemberAlias(Base):
    """A device-made member id (and its code) and the canonical member it belongs to."""

    __tablename__ = "member_alias"
    local_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), index=True)
    store_id: Mapped[str] = mapped_column(String(64))
    member_code: Mapped[str] = mapped_column(String(16))  # '' once the member is erased

    # A member code names one member, ever: the code of an alias is unique (and never the
    # code of another member, which ingest checks before it writes).
    __table_args__ = (
        Index("uq_member_alias_member_code", "member_code", unique=True,
              sqlite_where=text("member_code <> ''"), postgresql_where=text("member_code <> ''")),
    )  # fmt: skip


class MemberStore(Base):
    """Which stores hold a member: they receive the member's changes."""

    __tablename__ = "member_store"
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_member_store_store_member", "store_id", "member_id", unique=True),)


class Consent(Base):
    __tablename__ = "consent"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    notice_id: Mapped[str] = mapped_column(String(64))
    notice_version: Mapped[int] = mapped_column(Integer)
    notice_language: Mapped[str] = mapped_column(String(16))
    notice_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str | None] = mapped_column(String(64))
    staff_id: Mapped[str | None] = mapped_column(String(64))  # who recorded it at the counter
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class Sale(Base):
    """A sale fact from a store; the member link survives erasure as an anonymous id."""

    __tablename__ = "sale"
    purchase_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    receipt_no: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    staff_id: Mapped[str | None] = mapped_column(String(64))  # rang it up
    guide_id: Mapped[str | None] = mapped_column(String(64))  # served the customer (hq0006)
    member_id: Mapped[str | None] = mapped_column(String(64))
    member_local_id: Mapped[str | None] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    # Another store's member code HQ did not know yet: credited when they enrol (hq0008).
    member_code_ref: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_sale_store_time", "store_id", "occurred_at"),
        Index("ix_sale_time", "occurred_at"),  # brand-wide reports and the overview (hq0013)
        Index("ix_sale_member_time", "member_id", "occurred_at"),
        Index(
            "ix_sale_code_ref",
            "member_code_ref",
            sqlite_where=text("member_code_ref IS NOT NULL"),
            postgresql_where=text("member_code_ref IS NOT NULL"),
        ),
    )


class Change(Base):
    """The feed: one row per thing a store must learn, in HQ commit order (``seq``)."""

    __tablename__ = "change"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    store_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_change_store_seq", "store_id", "seq"),)


class Erasure(Base):
    """A member HQ erased: blocks re-creation from stale events; records which stores applied it."""

    __tablename__ = "erasure"
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime)
    requested_by: Mapped[str] = mapped_column(String(64))


class ErasureAck(Base):
    __tablename__ = "erasure_ack"
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(DateTime)


class RuleSet(Base):
    __tablename__ = "rule_set"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Redemption(Base):
    """An invite token redeemed once; a second redemption answers this stored result."""

    __tablename__ = "redemption"
    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    guide_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    response: Mapped[str] = mapped_column(Text)
    redeemed_at: Mapped[datetime] = mapped_column(DateTime)


class RateWindow(Base):
    """Requests per credential per window, kept in the database so any HQ process can count."""

    __tablename__ = "rate_window"
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class InviteRecord(Base):
    """An invite a counter reported issuing: who made it and for which sale."""

    __tablename__ = "invite"
    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[str | None] = mapped_column(String(64))
    member_local_id: Mapped[str | None] = mapped_column(String(64))
    purchase_id: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime)


class SmsCode(Base):
    """A one-time phone code for one invite and one phone; the phone and code are kept
    only as keyed hashes, so the table never holds a number or a usable code."""

    __tablename__ = "sms_code"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(32), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    sends: Mapped[int] = mapped_column(Integer)
    tries: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Assignment(Base):
    """Every change of a customer's guide: the evidence the WeCom transfer limit is counted from."""

    __tablename__ = "assignment"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64))
    from_guide_id: Mapped[str | None] = mapped_column(String(64))
    to_guide_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(
        String(16)
    )  # admin (API, CLI) or store (a manager's request)
    requested_by: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str | None] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_assignment_member_time", "member_id", "assigned_at"),)


class FollowUpDone(Base):
    """A follow-up a store's guide completed (codes only, no personal data), for reports."""

    __tablename__ = "follow_up_done"
    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    follow_up_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    anchor_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_follow_up_done_store_time", "store_id", "done_at"),)


class MemberLookup(Base):
    """A counter asked HQ for a member by full phone or code: who asked, when, how, what
    HQ answered (the member, or nobody; never the phone or code itself)."""

    __tablename__ = "member_lookup"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # phone, member_code
    outcome: Mapped[str] = mapped_column(String(16))  # found, not_found, rate_limited
    member_id: Mapped[str | None] = mapped_column(String(64))
    looked_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_member_lookup_device_time", "device_id", "looked_at"),
        Index("ix_member_lookup_time", "looked_at"),
    )


# --- the HQ console (posapp/hq/console): people, their sessions, what they did ----------------


class ConsoleUser(Base):
    """A person who runs HQ from a browser: a role, and for a regional manager a set of stores."""

    __tablename__ = "console_user"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(24))
    password_hash: Mapped[str] = mapped_column(String(256))
    totp_secret: Mapped[str | None] = mapped_column(String(128))  # sealed: console.totp_seal
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # no code is used twice
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class ConsoleUserStore(Base):
    """The stores a regional manager sees and manages (other roles have none here)."""

    __tablename__ = "console_user_store"
    user_id: Mapped[str] = mapped_column(ForeignKey("console_user.id"), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id"), primary_key=True)


class ConsoleSession(Base):
    """A signed-in browser. Kept in the database so every HQ process behind a balancer shares
    it; only a hash of the cookie's token is stored."""

    __tablename__ = "console_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("console_user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    second_factor_done: Mapped[bool] = mapped_column(Boolean, default=False)
    pending_totp: Mapped[str | None] = mapped_column(String(128))  # while enrolling; sealed
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class AuditEntry(Base):
    """Append-only (the database refuses UPDATE and DELETE): every change made through the
    console or the CLI, and every reveal of personal data — who, what, when, from where.
    Holds ids, never the personal data itself."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # console user id, cli:<user>, admin-key:<id>
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(128), default="")
    store_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    address: Mapped[str] = mapped_column(String(64), default="")
