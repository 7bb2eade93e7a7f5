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
from typing import Any

from sqlalchemy.orm import Session

from posapp.timefmt import from_text, to_text

_MEMBER_COLS = (
    "m.id, m.member_code, m.phone_e164, m.name, m.rung, m.visit_count, m.lifetime_spend_fen,"
    " m.last_visit_at, m.birthday, m.guide_id, g.name, m.referrals,"
    " m.wecom_guide_id, w.name, m.wecom_since,"
    " CASE WHEN m.enrolled_store_id IS NOT (SELECT store_id FROM sync_state WHERE id = 1)"
    " THEN coalesce(e.name, m.enrolled_store_id) END, m.enrolled_at"
    " FROM member m LEFT JOIN staff g ON g.id = m.guide_id"
    " LEFT JOIN staff w ON w.id = m.wecom_guide_id"
    " LEFT JOIN store e ON e.id = m.enrolled_store_id"
)


MEMBER_BY_PHONE = f"SELECT {_MEMBER_COLS} WHERE m.phone_e164 = ? AND m.erased_at IS NULL"


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
    birthday: date | None
    guide_id: str | None
    guide_name: str | None
    referrals: int
    # HQ's word: the member is this guide's WeCom contact since then (read with the row, so
    # the card costs no second look-up)
    wecom_guide_id: str | None = None
    wecom_guide_name: str | None = None
    wecom_since: datetime | None = None
    # Another store of the brand, where the member joined (None: here, or not known)
    joined_at_store: str | None = None
    enrolled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemberHistory:
    """What the ladder and the consent state are computed from."""

    consents: list[tuple[str, bool]]
    recent_purchases: list[datetime]
    last_purchase: datetime | None


def _member(row: Sequence[Any]) -> MemberRow:
    return MemberRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        from_text(row[7]),
        date.fromisoformat(row[8]) if row[8] else None,
        row[9],
        row[10],
        row[11],
        row[12],
        row[13],
        from_text(row[14]),
        row[15],
        from_text(row[16]),
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
        return self._one(MEMBER_BY_PHONE, (e164,))

    def member_by_code(self, code: str) -> MemberRow | None:
        """The member's own code first; then a card of an enrolment HQ merged into them."""
        found = self._one(
            f"SELECT {_MEMBER_COLS} WHERE m.member_code = ? AND m.erased_at IS NULL",
            (code,),
        )
        if found is not None:
            return found
        return self._one(
            f"SELECT {_MEMBER_COLS} WHERE m.id = (SELECT member_id FROM member_other_code"
            " WHERE code = ?) AND m.erased_at IS NULL",
            (code,),
        )

    def member_by_id(self, member_id: str) -> MemberRow | None:
        return self._one(
            f"SELECT {_MEMBER_COLS} WHERE m.id = ? AND m.erased_at IS NULL", (member_id,)
        )

    def members_by_last4(self, last4: str, limit: int) -> list[MemberRow]:
        rows = self._conn.execute(
            f"SELECT {_MEMBER_COLS.replace('FROM member m', 'FROM member m INDEXED BY ix_member_last4_recent')}"
            " WHERE m.phone_last4 = ? AND m.erased_at IS NULL ORDER BY m.last_visit_at DESC LIMIT ?",
            (last4, limit),
        )
        return [_member(r) for r in rows]

    def members_by_name_prefix(self, prefix: str, limit: int) -> list[MemberRow]:
        rows = self._conn.execute(
            f"SELECT {_MEMBER_COLS} WHERE m.name >= ? AND m.name < ?"
            " AND m.erased_at IS NULL ORDER BY m.name LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [_member(r) for r in rows]

    def history(self, member_id: str, since: datetime) -> MemberHistory:
        """Consent decisions, recent purchase times and the last purchase, in one statement."""
        rows = self._conn.execute(
            "SELECT 0, id, purpose, granted FROM consent_record WHERE member_id = ?1"
            " UNION ALL SELECT 1, 0, occurred_at, NULL FROM purchase"
            " WHERE member_id = ?1 AND occurred_at >= ?2"
            " UNION ALL SELECT 2, 0, max(occurred_at), NULL FROM purchase WHERE member_id = ?1",
            (member_id, to_text(since)),
        ).fetchall()  # no ORDER BY: its temp B-trees would cost more than the whole lookup
        consents = [(r[2], bool(r[3])) for r in sorted(r for r in rows if r[0] == 0)]
        recent = [datetime.fromisoformat(r[2]) for r in rows if r[0] == 1]
        last = next((from_text(r[2]) for r in rows if r[0] == 2), None)
        return MemberHistory(consents, recent, last)

    def consent_decisions(self, member_id: str) -> list[tuple[str, bool]]:
        """Every grant and withdrawal for the member, oldest first."""
        rows = self._conn.execute(
            "SELECT purpose, granted FROM consent_record WHERE member_id = ? ORDER BY id",
            (member_id,),
        )
        return [(purpose, bool(granted)) for purpose, granted in rows]

    def rule_set(self, kind: str) -> str | None:
        row = self._conn.execute("SELECT body FROM rule_set WHERE kind = ?", (kind,)).fetchone()
        return row[0] if row else None

    def query(
        self, sql: str, params: Sequence[object] | dict[str, object] = ()
    ) -> list[tuple[Any, ...]]:
        """All rows of one statement: services' lists and aggregates (a guide's customers, the
        dashboard) in plain SQL, on the same connection and transaction as the hot reads."""
        return self._conn.execute(sql, params).fetchall()

    def staff_on_wecom(self, staff_id: str) -> bool:
        """HQ holds the guide's WeCom account: customers can add them as a contact."""
        row = self._conn.execute(
            "SELECT wecom_connected FROM staff WHERE id = ?", (staff_id,)
        ).fetchone()
        return bool(row and row[0])


class Ledger(Lookup):
    """The counter's hot writes as plain SQL, inside the caller's write transaction.

    A sale must be durable in a couple of milliseconds; building ORM statements costs
    more than the fsync itself, so the statements a sale runs live here, written once.
    """

    @classmethod
    def within(cls, session: Session) -> Ledger:
        return cls(session.connection().connection.driver_connection)  # type: ignore[arg-type]

    def take_seq(self) -> tuple[str, int]:
        """Claim this device's next event seq; it rolls back with the transaction, so no gaps."""
        row = self._conn.execute(
            "UPDATE sync_state SET next_seq = next_seq + 1 WHERE id = 1"
            " RETURNING device_id, next_seq"
        ).fetchone()
        return row[0], row[1] - 1

    def insert_event(
        self,
        *,
        seq: int,
        event_id: str,
        device_id: str,
        type: str,
        occurred_at: datetime,
        schema_version: int,
        payload: str,
    ) -> None:
        self._conn.execute(
            "INSERT INTO outbox_event (seq, event_id, device_id, type, occurred_at,"
            " schema_version, payload, acked_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (seq, event_id, device_id, type, to_text(occurred_at), schema_version, payload),
        )

    def sale_by_receipt(
        self, device_id: str, receipt_no: str
    ) -> tuple[str, int, str, str | None, str | None] | None:
        """``(purchase_id, amount_fen, currency, member_id, member_code_ref)`` of an earlier
        sale, if any."""
        return self._conn.execute(
            "SELECT id, amount_fen, currency, member_id, member_code_ref FROM purchase"
            " WHERE device_id = ? AND receipt_no = ?",
            (device_id, receipt_no),
        ).fetchone()

    def staff_is_active(self, staff_id: str) -> bool:
        row = self._conn.execute("SELECT active FROM staff WHERE id = ?", (staff_id,)).fetchone()
        return bool(row and row[0])

    def member_is_active(self, member_id: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM member WHERE id = ? AND erased_at IS NULL", (member_id,)
        ).fetchone()
        return row is not None

    def insert_purchase(
        self,
        *,
        purchase_id: str,
        device_id: str,
        receipt_no: str,
        amount_fen: int,
        currency: str,
        staff_id: str | None,
        member_id: str | None,
        source: str,
        occurred_at: datetime,
        guide_id: str | None = None,
        member_code_ref: str | None = None,
    ) -> None:
        self._conn.execute(
            "INSERT INTO purchase (id, device_id, receipt_no, amount_fen, currency, staff_id,"
            " guide_id, member_id, source, occurred_at, member_code_ref)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (purchase_id, device_id, receipt_no, amount_fen, currency, staff_id, guide_id,
             member_id, source, to_text(occurred_at), member_code_ref),
        )  # fmt: skip

    def count_visit(self, member_id: str, amount_fen: int, at: datetime) -> None:
        self._conn.execute(
            "UPDATE member SET visit_count = visit_count + 1,"
            " lifetime_spend_fen = lifetime_spend_fen + ?,"
            " last_visit_at = max(coalesce(last_visit_at, ''), ?), updated_at = ? WHERE id = ?",
            (amount_fen, to_text(at), to_text(at), member_id),
        )

    def set_rung(self, member_id: str, rung: str, at: datetime) -> None:
        self._conn.execute(
            "UPDATE member SET rung = ?, updated_at = ? WHERE id = ?",
            (rung, to_text(at), member_id),
        )

    def sale_by_id(self, purchase_id: str) -> tuple[int, datetime, str | None] | None:
        """``(amount_fen, occurred_at, member_id)`` of one sale."""
        row = self._conn.execute(
            "SELECT amount_fen, occurred_at, member_id FROM purchase WHERE id = ?", (purchase_id,)
        ).fetchone()
        return (row[0], datetime.fromisoformat(row[1]), row[2]) if row else None

    def link_sale(self, purchase_id: str, member_id: str) -> None:
        self._conn.execute(
            "UPDATE purchase SET member_id = ? WHERE id = ?", (member_id, purchase_id)
        )
