"""The counter's hot reads as plain SQL on the SQLite connection.

Recognising a member must feel instant at a million members, so these queries skip the
ORM's per-statement overhead (tens of microseconds each) and use the indexes directly.
A ``Lookup`` wraps either its own read transaction (``Database.lookup()``) or the
connection of a write session, so reads inside a sale see that sale's own rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

_MEMBER_COLS = (
    "id, member_code, phone_e164, name, rung, visit_count, lifetime_spend_fen, last_visit_at"
)


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: str
    member_code: str
    phone_e164: str | None
    name: str | None
    rung: str
    visit_count: int
    lifetime_spend_fen: int
    last_visit_at: datetime | None


@dataclass(frozen=True, slots=True)
class MemberDetail:
    birthday: date | None
    guide_id: str | None
    guide_name: str | None
    referrals: int


def _ts(moment: datetime) -> str:
    """The text form SQLAlchemy stores datetimes in, so string comparison orders them."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _member(row: Sequence[object]) -> MemberRow:
    return MemberRow(
        row[0],  # type: ignore[arg-type]
        row[1],  # type: ignore[arg-type]
        row[2],  # type: ignore[arg-type]
        row[3],  # type: ignore[arg-type]
        row[4],  # type: ignore[arg-type]
        row[5],  # type: ignore[arg-type]
        row[6],  # type: ignore[arg-type]
        _dt(row[7]),  # type: ignore[arg-type]
    )


class Lookup:
    """Read-only queries on one SQLite connection inside an open transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @classmethod
    def within(cls, session: Session) -> Lookup:
        """Reads that share a write session's transaction."""
        return cls(session.connection().connection.driver_connection)  # type: ignore[arg-type]

    def _one(self, sql: str, params: tuple[object, ...]) -> MemberRow | None:
        row = self._conn.execute(sql, params).fetchone()
        return _member(row) if row else None

    def member_by_phone(self, e164: str) -> MemberRow | None:
        return self._one(
            f"SELECT {_MEMBER_COLS} FROM member WHERE phone_e164 = ? AND erased_at IS NULL",
            (e164,),
        )

    def member_by_code(self, code: str) -> MemberRow | None:
        return self._one(
            f"SELECT {_MEMBER_COLS} FROM member WHERE member_code = ? AND erased_at IS NULL",
            (code,),
        )

    def member_by_id(self, member_id: str) -> MemberRow | None:
        return self._one(
            f"SELECT {_MEMBER_COLS} FROM member WHERE id = ? AND erased_at IS NULL", (member_id,)
        )

    def members_by_last4(self, last4: str, limit: int) -> list[MemberRow]:
        rows = self._conn.execute(
            f"SELECT {_MEMBER_COLS} FROM member INDEXED BY ix_member_last4_recent "
            "WHERE phone_last4 = ? AND erased_at IS NULL ORDER BY last_visit_at DESC LIMIT ?",
            (last4, limit),
        )
        return [_member(r) for r in rows]

    def members_by_name_prefix(self, prefix: str, limit: int) -> list[MemberRow]:
        rows = self._conn.execute(
            f"SELECT {_MEMBER_COLS} FROM member WHERE name >= ? AND name < ? "
            "AND erased_at IS NULL ORDER BY name LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [_member(r) for r in rows]

    def member_detail(self, member_id: str) -> MemberDetail | None:
        row = self._conn.execute(
            "SELECT m.birthday, m.guide_id, s.name, m.referrals FROM member m "
            "LEFT JOIN staff s ON s.id = m.guide_id WHERE m.id = ?",
            (member_id,),
        ).fetchone()
        if row is None:
            return None
        birthday = date.fromisoformat(row[0]) if row[0] else None
        return MemberDetail(birthday, row[1], row[2], row[3])

    def consent_decisions(self, member_id: str) -> list[tuple[str, bool]]:
        """Every grant and withdrawal for the member, oldest first."""
        rows = self._conn.execute(
            "SELECT purpose, granted FROM consent_record WHERE member_id = ? ORDER BY id",
            (member_id,),
        )
        return [(purpose, bool(granted)) for purpose, granted in rows]

    def purchase_times_since(self, member_id: str, since: datetime) -> list[datetime]:
        rows = self._conn.execute(
            "SELECT occurred_at FROM purchase WHERE member_id = ? AND occurred_at >= ?",
            (member_id, _ts(since)),
        )
        return [datetime.fromisoformat(r[0]) for r in rows]

    def last_purchase_time(self, member_id: str) -> datetime | None:
        row = self._conn.execute(
            "SELECT max(occurred_at) FROM purchase WHERE member_id = ?", (member_id,)
        ).fetchone()
        return _dt(row[0])

    def rule_set(self, kind: str) -> str | None:
        row = self._conn.execute("SELECT body FROM rule_set WHERE kind = ?", (kind,)).fetchone()
        return row[0] if row else None
