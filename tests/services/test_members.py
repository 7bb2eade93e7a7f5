"""Enrolment, identification and consent as the counter uses them."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from roster import CASHIER, GUIDE, MANAGER

from posapp.domain.consent import Notice, Purpose
from posapp.domain.errors import InvalidInput
from posapp.domain.lookup import QueryKind
from posapp.services.members import (
    change_consent,
    enrol_member,
    identify,
    member_card,
    reveal_phone,
)
from posapp.services.sales import record_sale
from posapp.store.db import Database


def _enrol(db: Database, notice: Notice, phone: str, **kw: object) -> str:
    with db.write() as s:
        return enrol_member(
            s,
            phone=phone,
            consents=kw.pop("consents", {Purpose.MEMBERSHIP}),  # type: ignore[arg-type]
            notice=notice,
            staff_id=GUIDE,
            **kw,  # type: ignore[arg-type]
        ).member_id


def _events(db: Database) -> list[tuple[str, dict[str, object]]]:
    raw = db.raw()
    return [
        (t, json.loads(p))
        for t, p in raw.execute("SELECT type, payload FROM outbox_event ORDER BY seq")
    ]


def test_enrol_is_idempotent_on_the_normalised_phone(db: Database, notice: Notice) -> None:
    first = _enrol(db, notice, "+86 138 1234 5678", name="李雷")
    second = _enrol(db, notice, "138-1234-5678")
    third = _enrol(db, notice, "００８６１３８１２３４５６７８")
    assert first == second == third
    assert [t for t, _ in _events(db)] == ["member.enrolled"]
    payload = _events(db)[0][1]
    assert payload["phone_e164"] == "+8613812345678"
    assert payload["consents"][0]["notice"]["text_hash"] == notice.text_hash  # type: ignore[index]


def test_double_submit_from_two_threads_creates_one_member(db: Database, notice: Notice) -> None:
    barrier = threading.Barrier(4)
    ids: list[str] = []

    def press() -> None:
        barrier.wait()
        ids.append(_enrol(db, notice, "13612345678"))

    threads = [threading.Thread(target=press) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1
    raw = db.raw()
    assert raw.execute("SELECT count(*) FROM member").fetchone()[0] == 1


def test_enrol_needs_membership_consent(db: Database, notice: Notice) -> None:
    with pytest.raises(InvalidInput) as err:
        _enrol(db, notice, "13812345678", consents={Purpose.MARKETING})
    assert err.value.rule == "membership_required"
    assert _events(db) == []


def test_child_needs_guardian_consent(db: Database, notice: Notice) -> None:
    with pytest.raises(InvalidInput) as err:
        _enrol(db, notice, "13812345678", birthday=date(2020, 1, 1))
    assert err.value.rule == "guardian_required"
    member_id = _enrol(db, notice, "13812345678", birthday=date(2020, 1, 1), guardian_consent=True)
    assert _events(db)[0][1]["guardian_consent"] is True
    assert member_id


@pytest.mark.parametrize(
    ("phone", "name", "field", "rule"),
    [
        ("010-12345678", None, "phone", "not_mobile"),
        ("138123", None, "phone", "mobile_too_short"),
        ("138\u200b12345678", None, "phone", "control_character"),
        ("13812345678", "x" * 10_000, "name", "too_long"),
        ("13812345678", "evil\u202ename", "name", "control_character"),
        ("138'; DROP TABLE member", None, "phone", "bad_character"),
    ],
)
def test_bad_enrolment_input_changes_nothing(
    db: Database, notice: Notice, phone: str, name: str | None, field: str, rule: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        _enrol(db, notice, phone, name=name)
    assert (err.value.field, err.value.rule) == (field, rule)
    raw = db.raw()
    assert raw.execute("SELECT count(*) FROM member").fetchone()[0] == 0
    assert raw.execute("SELECT count(*) FROM outbox_event").fetchone()[0] == 0


def test_emoji_and_any_script_names_are_kept(db: Database, notice: Notice) -> None:
    member_id = _enrol(db, notice, "13812345678", name="  Zoë 👨‍👩‍👧 欧阳娜娜 ")
    with db.lookup() as lookup:
        card = member_card(lookup, member_id)
    assert card.summary.name == "Zoë 👨‍👩‍👧 欧阳娜娜"


def test_identify_every_way(db: Database, notice: Notice) -> None:
    member_id = _enrol(db, notice, "13812345678", name="欧阳娜娜")
    _enrol(db, notice, "13912345678", name="欧阳修")
    with db.lookup() as lookup:
        by_phone = identify(lookup, "138 1234 5678")
        assert by_phone.card is not None and by_phone.card.id == member_id
        assert by_phone.card.summary.phone_masked == "138****5678"
        code = by_phone.card.summary.member_code
        by_code = identify(lookup, code)
        assert by_code.query.kind is QueryKind.MEMBER_CODE
        assert by_code.card is not None and by_code.card.id == member_id
        last4 = identify(lookup, "5678")
        assert last4.card is None and {c.id for c in last4.candidates} >= {member_id}
        assert len(last4.candidates) == 2
        by_name = identify(lookup, "欧阳")
        assert sorted(c.name or "" for c in by_name.candidates) == sorted(["欧阳娜娜", "欧阳修"])
        assert identify(lookup, "13700000000").candidates == []


def test_last_four_lists_most_recent_visit_first_at_most_twenty(
    db: Database, notice: Notice
) -> None:
    ids = [_enrol(db, notice, f"13{i}0000{i:02d}99"[:3] + f"{i:04d}" + "4321") for i in range(25)]
    for n, member_id in enumerate(ids[:5]):
        with db.write() as s:
            record_sale(s, receipt_no=f"L{n}", amount="1", member_id=member_id, staff_id=CASHIER)
    with db.lookup() as lookup:
        found = identify(lookup, "4321")
    assert len(found.candidates) == 20
    assert [c.id for c in found.candidates[:5]] == list(reversed(ids[:5]))


def test_consent_withdraw_and_grant_are_events(db: Database, notice: Notice) -> None:
    member_id = _enrol(db, notice, "13812345678")
    with db.write() as s:
        assert change_consent(
            s,
            member_id=member_id,
            purpose=Purpose.MARKETING,
            granted=True,
            notice=notice,
            staff_id=CASHIER,
        )
    with db.write() as s:
        assert not change_consent(
            s,
            member_id=member_id,
            purpose=Purpose.MARKETING,
            granted=True,
            notice=notice,
            staff_id=CASHIER,
        )
    with db.write() as s:
        change_consent(
            s,
            member_id=member_id,
            purpose=Purpose.MEMBERSHIP,
            granted=False,
            notice=notice,
            staff_id=CASHIER,
        )
    types = [t for t, _ in _events(db)]
    assert types == ["member.enrolled", "consent.changed", "consent.changed"]
    with db.lookup() as lookup:
        card = member_card(lookup, member_id)
    assert card.consents[Purpose.MARKETING] is True
    assert card.consents[Purpose.MEMBERSHIP] is False
    assert card.summary.rung == "walk_in"  # left membership: no longer on the member rungs


def test_only_a_manager_reveals_a_phone_and_it_is_audited(db: Database, notice: Notice) -> None:
    member_id = _enrol(db, notice, "13812345678")
    with pytest.raises(InvalidInput) as err, db.write() as s:
        reveal_phone(s, member_id=member_id, staff_id=CASHIER)
    assert err.value.rule == "not_allowed"
    with db.write() as s:
        assert reveal_phone(s, member_id=member_id, staff_id=MANAGER) == "+8613812345678"
    raw = db.raw()
    rows = raw.execute("SELECT staff_id, action, subject_id, detail FROM audit_log").fetchall()
    assert rows == [  # the cashier's refusal is evidence too
        (CASHIER, "refused:reveal_phone", member_id, ""),
        (MANAGER, "reveal_phone", member_id, ""),
    ]
