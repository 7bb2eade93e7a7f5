"""Staff sign-in with PINs, lock-out, manager-only actions and the unsynced guard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from roster import CASHIER, MANAGER

from posapp.domain.errors import InvalidInput
from posapp.domain.roles import Permission, may
from posapp.services.sales import record_sale
from posapp.services.staff import (
    LOCKOUT,
    MAX_FAILURES,
    UnsyncedWork,
    guard_unsynced,
    locked_until,
    require,
    roster,
    sign_in,
)
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.store.models import Staff
from posapp.timefmt import utcnow

PINS = {CASHIER: "2468", MANAGER: "135790"}


@pytest.fixture
def staffed(db: Database) -> Database:
    hasher = PasswordHasher()
    with db.write() as s:
        for staff_id, pin in PINS.items():
            staff = s.get(Staff, staff_id)
            assert staff is not None
            staff.pin_hash = hasher.hash(pin)
    return db


def _audit(db: Database) -> list[tuple[str, str | None, str | None]]:
    return (
        db.raw()
        .execute("SELECT action, staff_id, subject_id FROM audit_log ORDER BY id")
        .fetchall()
    )


def test_the_right_pin_signs_in_and_the_roster_lists_who_can(staffed: Database) -> None:
    with staffed.read() as s:
        assert {p.staff_id for p in roster(s)} == {CASHIER, MANAGER}  # the guide has no PIN yet
    with staffed.write() as s:
        who = sign_in(s, staff_id=MANAGER, pin="135790")
    assert who.role == "manager" and who.may(Permission.REVEAL_PHONE)
    assert _audit(staffed) == [("sign_in", MANAGER, MANAGER)]


@pytest.mark.parametrize("pin", ["1357", "", "２４６８", "24 68", "2468\n", "😀" * 4, "9" * 10_000])
def test_wrong_or_garbage_pins_are_refused_and_counted(staffed: Database, pin: str) -> None:
    with pytest.raises(InvalidInput) as err, staffed.write() as s:
        sign_in(s, staff_id=CASHIER, pin=pin)
    assert err.value.rule == "wrong" and str(MAX_FAILURES - 1) in err.value.message
    assert _audit(staffed) == [("pin_failed", None, CASHIER)]


def test_five_wrong_pins_lock_the_person_out_across_a_restart(staffed: Database) -> None:
    rules = []
    for _ in range(MAX_FAILURES):
        with pytest.raises(InvalidInput) as err, staffed.write() as s:
            sign_in(s, staff_id=CASHIER, pin="0000")
        rules.append(err.value.rule)
    assert rules == ["wrong"] * (MAX_FAILURES - 1) + ["locked"]
    path = staffed.path
    staffed.close()
    again = open_database(path)
    try:
        with pytest.raises(InvalidInput) as err, again.write() as s:
            sign_in(s, staff_id=CASHIER, pin=PINS[CASHIER])  # even the right PIN waits
        assert err.value.rule == "locked_out"
        with again.read() as s:
            until = locked_until(s, CASHIER)
            assert until is not None
            # Attempts while locked do not extend the lock-out.
            assert locked_until(s, CASHIER, until - timedelta(seconds=1)) == until
            assert locked_until(s, CASHIER, until + timedelta(seconds=1)) is None
        with again.write() as s:  # the manager is not affected
            sign_in(s, staff_id=MANAGER, pin=PINS[MANAGER])
        with again.write() as s:
            later = utcnow() + LOCKOUT + timedelta(seconds=1)
            assert sign_in(s, staff_id=CASHIER, pin=PINS[CASHIER], now=later).staff_id == CASHIER
    finally:
        again.close()


def test_unknown_or_pinless_staff_cannot_sign_in(staffed: Database) -> None:
    for staff_id in ("nobody", "guide-1"):
        with pytest.raises(InvalidInput) as err, staffed.write() as s:
            sign_in(s, staff_id=staff_id, pin="1234")
        assert err.value.rule == "unknown"


@pytest.mark.parametrize("permission", list(Permission))
def test_manager_only_actions_are_refused_to_a_cashier_and_both_are_audited(
    staffed: Database, permission: Permission
) -> None:
    assert not may("cashier", permission) and not may("guide", permission)
    assert not may("Manager", permission) and not may(None, permission)
    with pytest.raises(InvalidInput) as err, staffed.write() as s:
        require(s, CASHIER, permission, subject_id="m1")
    assert err.value.rule == "not_allowed"
    with staffed.write() as s:
        require(s, MANAGER, permission, subject_id="m1")
    assert _audit(staffed) == [
        (f"refused:{permission.value}", CASHIER, "m1"),
        (permission.value, MANAGER, "m1"),
    ]


def test_sign_out_waits_for_unsynced_sales_unless_a_manager_confirms(staffed: Database) -> None:
    with staffed.write() as s:
        assert guard_unsynced(s, action="sign_out") == 0  # nothing pending: free to go
    with staffed.write() as s:
        record_sale(s, receipt_no="R-1", amount="12.50", staff_id=CASHIER)
    with pytest.raises(UnsyncedWork) as err, staffed.write() as s:
        guard_unsynced(s, action="sign_out")
    assert err.value.pending == 1 and err.value.oldest is not None
    with pytest.raises(InvalidInput) as refused, staffed.write() as s:
        guard_unsynced(s, action="sign_out", manager_id=CASHIER)
    assert refused.value.rule == "not_allowed"
    with staffed.write() as s:
        assert guard_unsynced(s, action="sign_out", manager_id=MANAGER) == 1
    assert _audit(staffed)[-2:] == [
        ("refused:override_sync_guard", CASHIER, "sign_out"),
        ("override_sync_guard", MANAGER, "sign_out"),
    ]
