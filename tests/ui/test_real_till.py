"""The counter at a real till (issue 20): a scan means the scan, nothing carries over from one
customer to the next, the guide who served is credited. Each test drives the real window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from counter_harness import give_pins, press, settle, sign_in, type_enter, wedge
from counter_harness import counter_app as make_counter_app
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from roster import CASHIER

from posapp.domain.consent import Notice, Purpose
from posapp.services.members import enrol_member
from posapp.store.db import Database
from posapp.ui.app import CounterApp
from posapp.ui.counter_window import CounterWindow

PHONE = "13812345678"
PHONE_2 = "13912345678"  # same last four digits


@pytest.fixture
def app(qtbot: QtBot, db: Database, db_path: Path) -> Iterator[CounterApp]:
    give_pins(db)
    with make_counter_app(qtbot, db, db_path.parent) as made:
        yield made


@pytest.fixture
def window(qtbot: QtBot, app: CounterApp) -> CounterWindow:
    sign_in(qtbot, app.window, CASHIER)
    return app.window


def _enrol(db: Database, notice: Notice, phone: str, name: str) -> tuple[str, str]:
    with db.write() as s:
        done = enrol_member(
            s, phone=phone, consents={Purpose.MEMBERSHIP}, notice=notice, staff_id=CASHIER,
            name=name,
        )  # fmt: skip
        return done.member_id, done.member_code


def _sale_member(db: Database, receipt: str) -> str | None:
    row = db.raw().execute("SELECT member_id FROM purchase WHERE receipt_no=?", (receipt,))
    return row.fetchone()[0]


def _open_candidates(qtbot: QtBot, window: CounterWindow) -> str:
    """Last four digits: two candidates, the list has the keyboard; returns the highlighted id."""
    type_enter(qtbot, window.query, "5678")
    qtbot.waitUntil(window.candidates.isVisible)
    assert window.candidates.hasFocus()
    return window.candidate_model.candidate(window.candidates.currentIndex().row()).id


# ---- 1. a scan always means the scan -------------------------------------------------------


@pytest.mark.parametrize("how", ["member_code", "typed_phone"])
def test_a_scan_while_the_candidate_list_is_open_identifies_the_scanned_member(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice, how: str
) -> None:
    first = _enrol(db, notice, PHONE, "王芳")
    second = _enrol(db, notice, PHONE_2, "李娜")
    highlighted = _open_candidates(qtbot, window)
    other_id, other_code = second if highlighted == first[0] else first
    other_phone = PHONE_2 if other_id == second[0] else PHONE
    wedge(qtbot, other_code if how == "member_code" else other_phone)
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.card.id == other_id  # not the highlighted candidate
    assert not window.candidates.isVisible()
    press(qtbot, window, Qt.Key.Key_F2)
    type_enter(qtbot, window.receipt, "R-501")
    type_enter(qtbot, window.amount, "66")
    qtbot.waitUntil(lambda: "R-501" in window.sale_done.text())
    assert _sale_member(db, "R-501") == other_id


def test_a_code_scanned_into_the_receipt_box_identifies_and_the_receipt_is_kept(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    member_id, code = _enrol(db, notice, PHONE, "王芳")
    press(qtbot, window, Qt.Key.Key_F2)
    qtbot.keyClicks(window.receipt, "R-77")
    qtbot.wait(150)  # a person's typing, then the scanner: a pause between the two
    wedge(qtbot, code)  # the scanner fires while the receipt box has the keyboard
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.card.id == member_id
    assert window.receipt.text() == "R-77"  # what the cashier typed is not lost
    assert _count(db, "purchase") == 0


def test_a_receipt_number_typed_in_the_receipt_box_stays_a_receipt(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    press(qtbot, window, Qt.Key.Key_F2)
    wedge(qtbot, "20261202001")  # digits, fast, Enter: but no member code or mobile
    assert window.amount.hasFocus() and window.receipt.text() == "20261202001"
    settle(qtbot, window)
    assert window.card is None


def test_a_scan_on_my_customers_tab_goes_to_the_counter_and_identifies(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    member_id, code = _enrol(db, notice, PHONE, "王芳")
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.counter_page.currentWidget() is window.customers_tab)
    window.customers_tab.table.setFocus()
    wedge(qtbot, code)
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.counter_page.currentWidget() is window.counter_tab
    assert window.card.id == member_id


def _count(db: Database, table: str) -> int:
    return db.raw().execute(f"SELECT count(*) FROM {table}").fetchone()[0]
