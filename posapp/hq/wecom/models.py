"""The WeCom adapter's tables, on HQ's declarative base (migration hq0007).

HQ's own tables are only read from here: the adapter keeps what WeCom told it (the
inbox), what it made there (contact ways), and what it concluded (links, transfers).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from posapp.hq.models import Base, BigId

_OPEN = {"sqlite_where": text("ended_at IS NULL"), "postgresql_where": text("ended_at IS NULL")}
_LIVE = {"sqlite_where": text("deleted_at IS NULL"), "postgresql_where": text("deleted_at IS NULL")}
_WAITING = {
    "sqlite_where": text("status = 'received'"),
    "postgresql_where": text("status = 'received'"),
}


class WeComToken(Base):
    """The one access token of a corp's app, shared by every HQ process.

    ``lease_until`` is the compare-and-set lock: the process that moves it forward fetches
    the token, the others wait for the row to change.
    """

    __tablename__ = "wecom_token"
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(String(512))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime)


class WeComGuide(Base):
    """A guide's WeCom account, and the permanent contact way of the guide's printed card."""

    __tablename__ = "wecom_guide"
    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), index=True)
    # The card's ``state``: "G" and the staff number, so never a 30-character invite token.
    guide_code: Mapped[str] = mapped_column(String(16), unique=True)
    config_id: Mapped[str | None] = mapped_column(String(64))
    qr_code: Mapped[str | None] = mapped_column(String(512))
    way_userid: Mapped[str | None] = mapped_column(String(64))  # the userid the way was made for
    departed_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class WeComContactWay(Base):
    """A contact way made for one invite (its ``state`` is the token), until deleted."""

    __tablename__ = "wecom_contact_way"
    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    config_id: Mapped[str] = mapped_column(String(64), unique=True)
    qr_code: Mapped[str] = mapped_column(String(512))
    userid: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[str | None] = mapped_column(String(64))
    store_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    added_at: Mapped[datetime | None] = mapped_column(DateTime)  # the customer added the guide
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_wecom_contact_way_live", "expires_at", **_LIVE),)


class WeComInbox(Base):
    """Every callback WeCom sent, stored before it is answered and processed behind it.

    WeCom retries a callback it got no answer to; the unique key makes a retry (or a
    duplicate) one row, processed once.
    """

    __tablename__ = "wecom_inbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    userid: Mapped[str] = mapped_column(String(64))
    change_type: Mapped[str] = mapped_column(String(48))
    create_time: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(48))
    body: Mapped[str] = mapped_column(Text)  # the decrypted XML ('' once processed)
    status: Mapped[str] = mapped_column(String(16))  # received, done, dropped, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(256))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("uq_wecom_inbox_event", "external_userid", "userid", "change_type",
              "create_time", unique=True),
        Index("ix_wecom_inbox_received", "id", **_WAITING),
    )  # fmt: skip


class WeComLink(Base):
    """A customer is a WeCom contact of a guide: from the add until removal or transfer.

    ``member_id`` is empty while the customer has not joined (pending); ``external_hash``
    outlives an erasure, so WeCom's later events for that person are recognised and dropped.
    """

    __tablename__ = "wecom_link"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    external_hash: Mapped[str] = mapped_column(String(64), index=True)
    userid: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[str | None] = mapped_column(String(64))
    member_id: Mapped[str | None] = mapped_column(String(64), index=True)
    store_id: Mapped[str | None] = mapped_column(String(64))
    invite_token: Mapped[str | None] = mapped_column(String(32), index=True)
    state: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    # removed (the customer removed the guide), deleted (the guide removed the customer),
    # transferred, erased
    end_reason: Mapped[str | None] = mapped_column(String(16))
    welcomed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("uq_wecom_link_open", "external_userid", "userid", unique=True, **_OPEN),
    )


class WeComTransfer(Base):
    """One customer moved from one guide's WeCom to another's, and what came of it."""

    __tablename__ = "wecom_transfer"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    handover_userid: Mapped[str] = mapped_column(String(64))
    takeover_userid: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str | None] = mapped_column(String(64), index=True)
    assignment_id: Mapped[int | None] = mapped_column(BigInteger)
    resigned: Mapped[bool] = mapped_column(Boolean, default=False)
    # unsent (WeCom unreachable: sent again later), sending (one caller asking now), waiting (24 h), accepted, refused (by
    # the customer), limit (the takeover guide is full), rejected (WeCom refused the call
    # for this customer: ``errcode``), none (WeCom has no record)
    status: Mapped[str] = mapped_column(String(16))
    errcode: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    takeover_at: Mapped[datetime | None] = mapped_column(DateTime)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_wecom_transfer_pair", "handover_userid", "takeover_userid", "status"),
    )
