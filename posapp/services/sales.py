"""Recording a sale at the counter: durable, idempotent per receipt, never needing consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.ids import new_id
from posapp.domain.member_code import is_member_code
from posapp.domain.sale import (
    check_currency,
    check_sale_amount,
    clean_receipt_no,
    parse_amount,
)
from posapp.protocol.events import SaleLinked, SaleRecorded
from posapp.services.common import require_guide
from posapp.services.standing import reassess
from posapp.store.lookup import Ledger
from posapp.store.outbox import append_event
from posapp.timefmt import utcnow

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
    member_code_ref: str | None = None  # another store's member, for HQ to credit


def record_sale(
    session: Session,
    *,
    receipt_no: str,
    amount: str | int | Decimal,
    currency: str = "CNY",
    staff_id: str | None = None,
    member_id: str | None = None,
    source: str = "typed",
    guide_id: str | None = None,
    gift: bool = False,
    member_code_ref: str | None = None,
    now: datetime | None = None,
) -> SaleResult:
    """Write the purchase, the member's new totals and rung, and its outbox event, together.

    The same receipt number from this device again is the same sale: the first result
    is returned and nothing is written, unless the amount differs, which is refused.
    ``staff_id`` rang the sale up; ``guide_id`` served the customer and is credited.
    A ¥0.00 sale needs ``gift`` (:func:`posapp.domain.sale.check_sale_amount`).
    ``member_code_ref`` is a valid member code nobody here holds (see
    :func:`posapp.services.members.member_by_reference`): the sale stays without a member
    here, and HQ credits it to the code's member.
    """
    now = now or utcnow()
    receipt = clean_receipt_no(receipt_no)
    fen = parse_amount(amount)
    check_sale_amount(fen, gift=gift)
    code = check_currency(currency)
    if source not in SOURCES:
        raise InvalidInput("source", "unknown", f"Unknown sale source {source[:16]!r}.")
    ledger = Ledger.within(session)
    claimed = ledger.take_seq()
    device_id = claimed[0]
    earlier = ledger.sale_by_receipt(device_id, receipt)
    if earlier is not None:
        session.rollback()  # give back the claimed seq: nothing new happened
        earlier_id, earlier_fen, earlier_currency, earlier_member, earlier_ref = earlier
        if earlier_fen != fen or earlier_currency != code:
            raise InvalidInput(
                "receipt_no",
                "duplicate",
                "This receipt number was already recorded with a different amount.",
            )
        return SaleResult(
            earlier_id, receipt, fen, code, earlier_member, created=False,
            member_code_ref=earlier_ref,
        )  # fmt: skip
    if staff_id is not None and not ledger.staff_is_active(staff_id):
        raise InvalidInput("staff", "unknown", "This staff member is not on the store's roster.")
    if member_id is not None and not ledger.member_is_active(member_id):
        raise InvalidInput("member", "unknown", "No such member at this store.")
    if member_code_ref is not None and (
        member_id is not None or not is_member_code(member_code_ref)
    ):
        raise InvalidInput(
            "member",
            "reference",
            "A member code reference must be a valid"
            " member code, and only for a sale without a member.",
        )
    require_guide(session, guide_id)
    purchase_id = new_id()
    ledger.insert_purchase(
        purchase_id=purchase_id,
        device_id=device_id,
        receipt_no=receipt,
        amount_fen=fen,
        currency=code,
        staff_id=staff_id,
        member_id=member_id,
        source=source,
        occurred_at=now,
        guide_id=guide_id,
        member_code_ref=member_code_ref,
    )
    append_event(
        ledger,
        SaleRecorded(
            purchase_id=purchase_id,
            receipt_no=receipt,
            amount_fen=fen,
            currency=code,
            staff_id=staff_id,
            member_id=member_id,
            source=source,
            occurred_at=now,
            guide_id=guide_id,
            member_code_ref=member_code_ref,
        ),
        now=now,
        claimed=claimed,
    )
    rung = None
    if member_id is not None:
        ledger.count_visit(member_id, fen, now)
        rung = reassess(session, member_id, now=now).rung.value
    return SaleResult(
        purchase_id, receipt, fen, code, member_id, created=True, rung=rung,
        member_code_ref=member_code_ref,
    )  # fmt: skip


def link_sale(
    session: Session, *, purchase_id: str, member_id: str, now: datetime, announce: bool = True
) -> None:
    """Attach an anonymous sale to a member (a walk-in who joined right after paying).

    ``announce`` is False when the enrolment event already names the sale.
    """
    session.flush()
    ledger = Ledger.within(session)
    sale = ledger.sale_by_id(purchase_id)
    if sale is None:
        raise InvalidInput("sale", "unknown", "No such sale at this counter.")
    amount_fen, occurred_at, owner = sale
    if owner == member_id:
        return
    if owner is not None:
        raise InvalidInput("sale", "already_linked", "This sale already belongs to another member.")
    ledger.link_sale(purchase_id, member_id)
    ledger.count_visit(member_id, amount_fen, occurred_at)
    if announce:
        append_event(ledger, SaleLinked(purchase_id=purchase_id, member_id=member_id), now=now)
