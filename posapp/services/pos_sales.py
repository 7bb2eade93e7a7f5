"""A sale the POS reports, with the rules it is recorded by, wherever it arrives.

The loopback intake (:mod:`posapp.intake.server`) is only its transport; a script or a
future POS connector records a POS sale through :func:`record_pos_sale` the same way.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.phone import DEFAULT_REGION
from posapp.domain.sale import parse_pos_amount
from posapp.services.members import MemberReference, member_by_reference
from posapp.services.sales import SaleResult, record_sale
from posapp.store.lookup import Lookup


def record_pos_sale(
    session: Session,
    *,
    receipt_no: str,
    amount: str,
    currency: str,
    staff_id: str | None = None,
    member_code: str | None = None,
    phone: str | None = None,
    region: str = DEFAULT_REGION,
) -> SaleResult:
    """A sale the POS reports: its rules, whichever way it arrives (the intake, a script).

    The POS already recorded it, so a ¥0.00 sale is its decision (a gift). The member is
    named by ``member_code`` or ``phone``, never both; another store's valid code is kept
    as a reference for HQ, as at the counter. A replay of the receipt naming someone else
    than the first time is refused.
    """
    fen = parse_pos_amount(amount)
    if member_code is not None and phone is not None:
        raise InvalidInput(
            "member", "ambiguous", "Give member_code or phone to name the member, not both."
        )
    named = MemberReference()
    if member_code is not None:
        named = member_by_reference(
            Lookup.within(session), member_code, field="member_code", region=region
        )
    elif phone is not None:
        named = member_by_reference(Lookup.within(session), phone, field="phone", region=region)
    result = record_sale(
        session, receipt_no=receipt_no, amount=fen, currency=currency, staff_id=staff_id,
        member_id=named.member_id, member_code_ref=named.code_ref, source="pos", gift=True,
    )  # fmt: skip
    if (
        not result.created
        and named != MemberReference()
        and ((result.member_id, result.member_code_ref) != (named.member_id, named.code_ref))
    ):
        raise InvalidInput(
            "receipt_no",
            "duplicate_member",
            "This receipt number was already recorded for a different member.",
        )
    return result
