"""Recording a sale at the counter: durable, idempotent per receipt, never needing consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.ids import new_id
from posapp.domain.sale import check_currency, clean_receipt_no, parse_amount
from posapp.protocol.events import SaleLinked, SaleRecorded
from posapp.services.common import require_staff, utcnow
from posapp.services.standing import reassess
from posapp.store.models import Member, Purchase
from posapp.store.outbox import append_event, take_seq

SOURCES = frozenset({"typed", "scanned", "pos"})


@dataclass(frozen=True, slots=True)
class SaleResult:
    purchase_id: str
    receipt_no: str
    amount_fen: int
    currency: str
    member_id: str | None
    created: bool
    rung: str | None = None


def record_sale(
    session: Session,
    *,
    receipt_no: str,
    amount: str | int | Decimal,
    currency: str = "CNY",
    staff_id: str | None = None,
    member_id: str | None = None,
    source: str = "typed",
    now: datetime | None = None,
) -> SaleResult:
    """Write the purchase, the member's new totals and rung, and its outbox event, together.

    The same receipt number from this device again is the same sale: the first result
    is returned and nothing is written, unless the amount differs, which is refused.
    """
    now = now or utcnow()
    receipt = clean_receipt_no(receipt_no)
    fen = parse_amount(amount)
    code = check_currency(currency)
    if source not in SOURCES:
        raise InvalidInput("source", "unknown", f"Unknown sale source {source[:16]!r}.")
    claimed = take_seq(session)
    device_id = claimed[0]
    earlier = session.execute(
        select(Purchase).where(Purchase.device_id == device_id, Purchase.receipt_no == receipt)
    ).scalar_one_or_none()
    if earlier is not None:
        session.rollback()  # give back the claimed seq: nothing new happened
        if earlier.amount_fen != fen or earlier.currency != code:
            raise InvalidInput(
                "receipt_no",
                "duplicate",
                "This receipt number was already recorded with a different amount.",
            )
        return SaleResult(
            earlier.id, receipt, fen, code, earlier.member_id, created=False, rung=None
        )
    require_staff(session, staff_id)
    if (
        member_id is not None
        and session.scalar(
            select(Member.id).where(Member.id == member_id, Member.erased_at.is_(None))
        )
        is None
    ):
        raise InvalidInput("member", "unknown", "No such member at this store.")
    purchase_id = new_id()
    session.execute(
        Purchase.__table__.insert().values(
            id=purchase_id,
            device_id=device_id,
            receipt_no=receipt,
            amount_fen=fen,
            currency=code,
            staff_id=staff_id,
            member_id=member_id,
            source=source,
            occurred_at=now,
        )
    )
    append_event(
        session,
        SaleRecorded(
            purchase_id=purchase_id,
            receipt_no=receipt,
            amount_fen=fen,
            currency=code,
            staff_id=staff_id,
            member_id=member_id,
            source=source,
            occurred_at=now,
        ),
        now=now,
        claimed=claimed,
    )
    rung = None
    if member_id is not None:
        _count_visit(session, member_id=member_id, fen=fen, at=now)
        rung = reassess(session, member_id, now=now).rung.value
    return SaleResult(purchase_id, receipt, fen, code, member_id, created=True, rung=rung)


def _count_visit(session: Session, *, member_id: str, fen: int, at: datetime) -> None:
    session.execute(
        update(Member)
        .where(Member.id == member_id)
        .values(
            visit_count=Member.visit_count + 1,
            lifetime_spend_fen=Member.lifetime_spend_fen + fen,
            last_visit_at=at,
            updated_at=at,
        )
    )


def link_sale(
    session: Session, *, purchase_id: str, member_id: str, now: datetime, announce: bool = True
) -> None:
    """Attach an anonymous sale to a member (a walk-in who joined right after paying).

    ``announce`` is False when the enrolment event already names the sale.
    """
    sale = session.get(Purchase, purchase_id)
    if sale is None:
        raise InvalidInput("sale", "unknown", "No such sale at this counter.")
    if sale.member_id == member_id:
        return
    if sale.member_id is not None:
        raise InvalidInput("sale", "already_linked", "This sale already belongs to another member.")
    sale.member_id = member_id
    session.flush()
    _count_visit(session, member_id=member_id, fen=sale.amount_fen, at=max(sale.occurred_at, now))
    if announce:
        append_event(session, SaleLinked(purchase_id=purchase_id, member_id=member_id), now=now)
