"""record_sale: one transaction, idempotent per receipt, totals and rung kept in step."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from roster import CASHIER, GUIDE

from posapp.domain.consent import Notice, Purpose
from posapp.domain.errors import InvalidInput
from posapp.services.members import enrol_member, identify
from posapp.services.sales import link_sale, record_sale
from posapp.store.db import Database


def _count(db: Database, table: str) -> int:
    raw = db.raw()
    try:
        return raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        raw.close()


def _enrol(db: Database, notice: Notice, phone: str = "13812345678") -> str:
    with db.write() as s:
        return enrol_member(
            s, phone=phone, consents={Purpose.MEMBERSHIP}, notice=notice, staff_id=GUIDE
        ).member_id


def test_anonymous_sale_needs_no_consent_and_writes_its_event(db: Database) -> None:
    with db.write() as s:
        sale = record_sale(s, receipt_no="R-1", amount="128.50", staff_id=CASHIER)
    assert sale.created and sale.amount_fen == 12850 and sale.member_id is None
    raw = db.raw()
    (kind, payload) = raw.execute("SELECT type, payload FROM outbox_event").fetchone()
    assert kind == "sale.recorded"
    assert json.loads(payload)["purchase_id"] == sale.purchase_id
    assert json.loads(payload)["amount_fen"] == 12850


def test_same_receipt_twice_is_one_sale(db: Database) -> None:
    with db.write() as s:
        first = record_sale(s, receipt_no="R-2", amount="10", staff_id=CASHIER)
    with db.write() as s:
        again = record_sale(s, receipt_no="R-2", amount="10.00", staff_id=CASHIER)
    assert again.purchase_id == first.purchase_id and not again.created
    assert _count(db, "purchase") == 1 and _count(db, "outbox_event") == 1
    raw = db.raw()
    assert raw.execute("SELECT next_seq FROM sync_state").fetchone()[0] == 2


def test_same_receipt_with_other_amount_is_refused(db: Database) -> None:
    with db.write() as s:
        record_sale(s, receipt_no="R-3", amount="10", staff_id=CASHIER)
    with pytest.raises(InvalidInput) as err, db.write() as s:
        record_sale(s, receipt_no="R-3", amount="11", staff_id=CASHIER)
    assert err.value.rule == "duplicate"
    assert _count(db, "purchase") == 1


def test_member_sale_updates_visits_spend_and_rung(db: Database, notice: Notice) -> None:
    member_id = _enrol(db, notice)
    now = datetime(2026, 11, 20, 10, 0)
    with db.write() as s:
        first = record_sale(s, receipt_no="M-1", amount="100", member_id=member_id, now=now)
    with db.write() as s:
        second = record_sale(
            s, receipt_no="M-2", amount="50", member_id=member_id, now=now + timedelta(days=3)
        )
    assert first.rung == "member"
    assert second.rung == "regular"  # two purchases in the window, and the enrolling guide
    with db.lookup() as lookup:
        card = identify(lookup, "138 1234 5678", today=now.date() + timedelta(days=3)).card
    assert card is not None
    assert card.summary.visit_count == 2
    assert card.summary.lifetime_spend_fen == 15000
    assert card.summary.last_visit_at == now + timedelta(days=3)
    assert card.summary.rung == "regular"


@pytest.mark.parametrize(
    ("field", "kwargs", "rule"),
    [
        ("receipt_no", {"receipt_no": "", "amount": "1"}, "empty"),
        ("receipt_no", {"receipt_no": "x" * 10_000, "amount": "1"}, "too_long"),
        ("receipt_no", {"receipt_no": "1; DROP TABLE purchase", "amount": "1"}, "bad_character"),
        ("amount", {"receipt_no": "A1", "amount": "-5"}, "negative"),
        ("amount", {"receipt_no": "A1", "amount": "abc"}, "not_a_number"),
        ("currency", {"receipt_no": "A1", "amount": "1", "currency": "XXX"}, "unknown"),
        ("staff", {"receipt_no": "A1", "amount": "1", "staff_id": "nobody"}, "unknown"),
        ("member", {"receipt_no": "A1", "amount": "1", "member_id": "nobody"}, "unknown"),
    ],
)
def test_bad_sale_input_is_refused_and_changes_nothing(
    db: Database, field: str, kwargs: dict[str, str], rule: str
) -> None:
    before = (_count(db, "purchase"), _count(db, "outbox_event"))
    with pytest.raises(InvalidInput) as err, db.write() as s:
        record_sale(s, **kwargs)  # type: ignore[arg-type]
    assert (err.value.field, err.value.rule) == (field, rule)
    assert err.value.message
    assert (_count(db, "purchase"), _count(db, "outbox_event")) == before
    raw = db.raw()
    assert raw.execute("SELECT next_seq FROM sync_state").fetchone()[0] == 1


def test_walk_in_sale_linked_when_the_buyer_joins(db: Database, notice: Notice) -> None:
    with db.write() as s:
        sale = record_sale(s, receipt_no="W-1", amount="88", staff_id=CASHIER)
    with db.write() as s:
        enrolled = enrol_member(
            s,
            phone="13912345678",
            consents={Purpose.MEMBERSHIP},
            notice=notice,
            staff_id=CASHIER,
            purchase_id=sale.purchase_id,
        )
    raw = db.raw()
    assert raw.execute("SELECT member_id FROM purchase").fetchone()[0] == enrolled.member_id
    visits, spend = raw.execute(
        "SELECT visit_count, lifetime_spend_fen FROM member WHERE id = ?", (enrolled.member_id,)
    ).fetchone()
    assert (visits, spend) == (1, 8800)
    payload = json.loads(
        raw.execute("SELECT payload FROM outbox_event WHERE type = 'member.enrolled'").fetchone()[0]
    )
    assert payload["purchase_id"] == sale.purchase_id
    with pytest.raises(InvalidInput) as err, db.write() as s:
        other = _enrol(db, notice, phone="13712345678")
        link_sale(s, purchase_id=sale.purchase_id, member_id=other, now=datetime(2026, 11, 25))
    assert err.value.rule == "already_linked"


# --- another store's member, by the code scanned offline (issue 15) -------------------------


def test_member_by_reference_is_a_local_member_or_a_code_for_hq(
    db: Database, notice: Notice
) -> None:
    from posapp.domain.member_code import new_member_code
    from posapp.services.members import MemberReference, member_by_reference

    member_id = _enrol(db, notice)
    code = identify_code(db, member_id)
    other = new_member_code()
    while other == code:
        other = new_member_code()
    with db.lookup() as lookup:
        assert member_by_reference(lookup, code) == MemberReference(member_id=member_id)
        assert member_by_reference(lookup, "138 1234 5678") == MemberReference(member_id=member_id)
        assert member_by_reference(lookup, other) == MemberReference(code_ref=other)
        with pytest.raises(InvalidInput) as local_only:
            member_by_reference(lookup, other, references=False)
        assert (local_only.value.field, local_only.value.rule) == ("member", "unknown")
        with pytest.raises(InvalidInput) as typed_phone:  # offline a phone needs consent: enrol
            member_by_reference(lookup, "13900001111")
        assert typed_phone.value.rule == "unknown"
        with pytest.raises(InvalidInput) as misread:
            member_by_reference(lookup, "9000000000000")
        assert (misread.value.field, misread.value.rule) == ("member", "check_digit")
        assert "check digit" in misread.value.message
        with pytest.raises(InvalidInput) as vague:
            member_by_reference(lookup, "5678")
        assert vague.value.rule == "not_exact"


def identify_code(db: Database, member_id: str) -> str:
    raw = db.raw()
    try:
        return raw.execute("SELECT member_code FROM member WHERE id = ?", (member_id,)).fetchone()[
            0
        ]
    finally:
        raw.close()


def test_a_sale_with_a_code_reference_keeps_it_for_hq_and_counts_no_local_visit(
    db: Database, notice: Notice
) -> None:
    from posapp.domain.member_code import new_member_code

    member_id = _enrol(db, notice)
    other = new_member_code()
    with db.write() as s:
        sale = record_sale(s, receipt_no="X-1", amount="30", member_code_ref=other)
    assert sale.created and sale.member_id is None and sale.member_code_ref == other
    with db.write() as s:
        again = record_sale(s, receipt_no="X-1", amount="30", member_code_ref=other)
    assert not again.created and again.member_code_ref == other
    raw = db.raw()
    version, payload = raw.execute(
        "SELECT schema_version, payload FROM outbox_event WHERE type = 'sale.recorded'"
    ).fetchone()
    assert raw.execute("SELECT visit_count FROM member").fetchone() == (0,)
    raw.close()
    assert version == 2 and json.loads(payload)["member_code_ref"] == other
    for bad in (
        {"member_code_ref": "9000000000000"},
        {"member_code_ref": other, "member_id": member_id},
    ):
        with pytest.raises(InvalidInput) as err, db.write() as s:
            record_sale(s, receipt_no="X-2", amount="1", **bad)
        assert (err.value.field, err.value.rule) == ("member", "reference")
    assert _count(db, "purchase") == 1


def test_an_erasure_here_clears_the_code_from_sales_that_named_it(
    db: Database, notice: Notice
) -> None:
    """The member came down from HQ after a sale named them by code; then HQ erased them."""
    from posapp.store.hq_changes import erase_member

    member_id = _enrol(db, notice)
    code = identify_code(db, member_id)
    with db.write() as s:
        record_sale(s, receipt_no="E-1", amount="9", member_code_ref=code)
    with db.write() as s:
        erase_member(s, member_id, acknowledge=False)
    raw = db.raw()
    try:
        assert raw.execute("SELECT member_code_ref FROM purchase").fetchall() == [(None,)]
        payloads = [r[0] for r in raw.execute("SELECT payload FROM outbox_event")]
    finally:
        raw.close()
    assert payloads and not any(code in p for p in payloads)
