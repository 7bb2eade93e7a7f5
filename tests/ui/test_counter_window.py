"""The counter window, driven only by keys on a real SQLite file through the real services."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from counter_harness import PINS, give_pins, press, settle, sign_in, type_enter, type_text
from counter_harness import counter_app as make_counter_app
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTextBrowser
from pytestqt.qtbot import QtBot
from roster import CASHIER, GUIDE, MANAGER

from posapp.domain.consent import Notice, Purpose
from posapp.domain.member_code import new_member_code
from posapp.printing import PrintFailed
from posapp.services.invites import IssuedInvite
from posapp.services.members import enrol_member
from posapp.services.sales import record_sale
from posapp.settings import load_settings
from posapp.store.db import Database
from posapp.sync.engine import RoundResult
from posapp.ui.app import CounterApp
from posapp.ui.counter_window import CounterWindow
from posapp.ui.models import CandidateModel, StaffModel
from posapp.ui.panels.card import GuidePicker
from posapp.ui.panels.session import ManagerConfirm

PHONE = "13812345678"
PHONE_2 = "13912345678"  # same last four digits


def _enrol(db: Database, notice: Notice, phone: str, name: str) -> str:
    with db.write() as s:
        return enrol_member(
            s, phone=phone, consents={Purpose.MEMBERSHIP}, notice=notice, staff_id=CASHIER,
            name=name,
        ).member_code  # fmt: skip


def _audit(db: Database) -> list[tuple[str, str | None, str | None]]:
    rows = db.raw().execute("SELECT action, staff_id, subject_id FROM audit_log ORDER BY id")
    return [tuple(r) for r in rows]


def _decode(window: CounterWindow) -> str:
    image = window.invite_panel.qr.pixmap().toImage()
    found = zxingcpp.read_barcodes(image)
    assert found, "the QR on screen does not decode"
    return found[0].text


def test_a_wrong_pin_is_refused_then_locks_out_and_the_right_one_is_refused_while_locked(
    qtbot: QtBot, app: CounterApp, db: Database
) -> None:
    window = app.window
    settle(qtbot, window)
    page = window.sign_in_page
    page.staff.setCurrentIndex(page.staff_model.index(page.staff_model.row_of(CASHIER), 0))
    type_enter(qtbot, page.pin, "0000")
    qtbot.waitUntil(lambda: "4 tries left" in page.message.text())
    assert window.staff is None and page.pin.text() == ""
    for _ in range(4):
        type_enter(qtbot, page.pin, "0000")
        settle(qtbot, window)
    assert "locked" in page.message.text()
    type_enter(qtbot, page.pin, PINS[CASHIER])
    settle(qtbot, window)
    assert window.staff is None and "try again in" in page.message.text()
    actions = [a for a, _, subject in _audit(db) if subject == CASHIER]
    assert actions.count("pin_failed") == 5 and "pin_locked" in actions


def test_one_scan_and_enter_shows_the_card_with_a_masked_phone(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    code = _enrol(db, notice, PHONE, "王芳")
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.card_panel.name.text() == "王芳"
    assert window.card_panel.phone.text() == "138****5678"
    assert window.card_panel.code.text() == code
    assert window.card_panel.rung.text() == "member"
    assert "Membership" in window.card_panel.consents.text()
    assert (
        window.scan_panel.query.hasFocus() and window.scan_panel.query.selectedText() == code
    )  # next scan replaces


def test_another_stores_code_offline_shows_not_verified_and_the_sale_keeps_the_code(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    code = new_member_code()  # a valid code nobody at this store holds
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: "another store" in window.card_panel.name.text())
    assert window.card is None and window.card_panel.code.text() == code
    assert "not verified offline" in window.card_panel.name.text()
    type_enter(qtbot, window.sale_panel.receipt, "R-2001")
    type_enter(qtbot, window.sale_panel.amount, "66.00")
    qtbot.waitUntil(lambda: "another store" in window.sale_panel.done.text())
    row = db.raw().execute("SELECT member_id, member_code_ref FROM purchase").fetchall()
    assert row == [(None, code)]
    press(qtbot, window, Qt.Key.Key_Escape)  # the next customer is nobody's reference
    qtbot.waitUntil(lambda: window.card_panel.code.text() == "")
    type_enter(qtbot, window.sale_panel.receipt, "R-2002")
    type_enter(qtbot, window.sale_panel.amount, "5.00")
    qtbot.waitUntil(lambda: "walk-in" in window.sale_panel.done.text())
    refs = db.raw().execute("SELECT member_code_ref FROM purchase ORDER BY receipt_no").fetchall()
    assert refs == [(code,), (None,)]


def test_last_four_digits_list_candidates_chosen_with_arrows_and_enter(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    _enrol(db, notice, PHONE, "王芳")
    _enrol(db, notice, PHONE_2, "李娜")
    type_enter(qtbot, window.scan_panel.query, "5678")
    qtbot.waitUntil(lambda: window.scan_panel.candidates.isVisible())
    assert window.scan_panel.candidate_model.rowCount() == 2
    names = {window.scan_panel.candidate_model.at(r).name for r in range(2)}
    assert names == {"王芳", "李娜"}
    second = window.scan_panel.candidate_model.at(1).name
    qtbot.keyClick(window.scan_panel.candidates, Qt.Key.Key_Down)
    qtbot.keyClick(window.scan_panel.candidates, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.card_panel.name.text() == second
    assert not window.scan_panel.candidates.isVisible()


def test_a_walk_ins_sale_shows_the_join_qr_with_no_extra_key(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    type_enter(qtbot, window.sale_panel.receipt, "R-1001")
    assert window.sale_panel.amount.hasFocus()
    type_enter(qtbot, window.sale_panel.amount, "128.00")
    qtbot.waitUntil(lambda: window.invite_panel.invite is not None)
    invite = window.invite_panel.invite
    assert invite is not None and invite.channel.value == "mini_program"
    assert _decode(window) == invite.url and invite.token in invite.url
    assert window.invite_panel.code.text() == invite.token
    assert (
        "R-1001" in window.sale_panel.done.text()
        and "for a walk-in" in window.sale_panel.done.text()
    )
    row = db.raw().execute("SELECT member_id, amount_fen FROM purchase WHERE receipt_no='R-1001'")
    assert row.fetchone() == (None, 12800)
    assert window.display is not None and not window.display.qr.pixmap().isNull()
    kinds = [r[0] for r in db.raw().execute("SELECT type FROM outbox_event ORDER BY seq")]
    assert kinds[-2:] == ["sale.recorded", "invite.issued"]


def test_a_members_sale_is_theirs_and_offers_the_next_rung(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    code = _enrol(db, notice, PHONE, "王芳")
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    press(qtbot, window, Qt.Key.Key_F2)
    assert window.sale_panel.receipt.hasFocus()
    qtbot.keyClicks(window.sale_panel.receipt, "R-2")
    qtbot.keyClick(window.sale_panel.receipt, Qt.Key.Key_Tab)
    qtbot.keyClicks(window.sale_panel.amount, "59.9")
    press(qtbot, window, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: window.invite_panel.invite is not None)
    member = db.raw().execute("SELECT member_id FROM purchase WHERE receipt_no='R-2'").fetchone()
    assert member[0] == window.card.id  # type: ignore[union-attr]
    assert (
        "Visits 1" in window.card_panel.facts.text() and "¥59.90" in window.card_panel.facts.text()
    )
    assert window.invite_panel.invite.channel.value == "micro_mall"  # type: ignore[union-attr]


def test_enrol_by_keyboard_only_makes_the_walk_in_sale_the_new_members(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    type_enter(qtbot, window.sale_panel.receipt, "R-3")
    type_enter(qtbot, window.sale_panel.amount, "88")
    qtbot.waitUntil(lambda: window.invite_panel.invite is not None)
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    qtbot.waitUntil(dialog.phone.hasFocus)
    qtbot.keyClicks(dialog.phone, PHONE)
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Tab)
    type_text(qtbot, dialog.name, "张伟")
    assert not any(box.isChecked() for box in dialog.consents.values())  # nothing pre-ticked
    assert dialog.guide.currentData() is None  # a cashier is no guide; none was chosen at the sale
    dialog.consents[Purpose.MEMBERSHIP].setFocus()
    qtbot.keyClick(dialog.consents[Purpose.MEMBERSHIP], Qt.Key.Key_Space)
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card is not None and not dialog.isVisible())
    assert window.card_panel.name.text() == "张伟"
    row = (
        db.raw()
        .execute(
            "SELECT m.name, p.member_id = m.id FROM purchase p, member m"
            " WHERE p.receipt_no='R-3' AND m.phone_e164='+86" + PHONE + "'"
        )
        .fetchone()
    )
    assert row == ("张伟", 1)
    consents = db.raw().execute("SELECT purpose FROM consent_record WHERE granted=1").fetchall()
    assert consents == [("membership",)]


@pytest.mark.parametrize(
    ("phone", "expect"),
    [
        ("12345", "has 11 digits; this has 5 (too few digits)"),
        ("1381234567", "has 11 digits; this has 10 (too few digits)"),
        ("1381234567８9999", "too many digits"),
        ("010 6552 9988", "landline"),
        ("138-1234-abcd", "letters"),
        ("😀" * 11, "not a digit"),
    ],
)
def test_a_bad_phone_is_explained_live_and_nothing_typed_is_lost(
    qtbot: QtBot, window: CounterWindow, db: Database, phone: str, expect: str
) -> None:
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    type_text(qtbot, dialog.phone, phone)
    assert expect in dialog.phone_error.text()
    dialog.name.setText("王" * 50)
    dialog.birthday.setText("1990-13-40")
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert dialog.isVisible()
    assert dialog.phone.text() == phone and dialog.name.text() == "王" * 50
    assert "YYYY-MM-DD" in dialog.birthday_error.text()
    assert "consent" in dialog.consent_error.text()
    assert db.raw().execute("SELECT count(*) FROM member").fetchone()[0] == 0


def test_refusals_from_the_service_show_beside_their_field(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    qtbot.keyClicks(dialog.phone, PHONE)
    dialog.name.setText("A\u0007B")  # a control character from a bad paste
    dialog.birthday.setText("2099-01-01")
    dialog.consents[Purpose.MEMBERSHIP].setChecked(True)
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(dialog.birthday_error.text() or dialog.name_error.text()))
    assert dialog.isVisible() and dialog.submit_button.isEnabled()
    assert dialog.phone.text() == PHONE and dialog.birthday.text() == "2099-01-01"
    assert db.raw().execute("SELECT count(*) FROM member").fetchone()[0] == 0


def test_pressing_enter_twice_enrols_one_member(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    qtbot.keyClicks(dialog.phone, PHONE)
    dialog.consents[Purpose.MEMBERSHIP].setChecked(True)
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card is not None)
    settle(qtbot, window)
    assert db.raw().execute("SELECT count(*) FROM member").fetchone()[0] == 1
    enrolled = db.raw().execute("SELECT count(*) FROM outbox_event WHERE type='member.enrolled'")
    assert enrolled.fetchone()[0] == 1


@pytest.mark.parametrize(
    ("receipt", "amount", "field", "expect"),
    [
        ("", "10", "receipt", "receipt number"),
        ("R/ok", "abc", "amount", "not a number"),
        ("R/ok", "-5", "amount", "negative"),
        ("R/ok", "1.234", "amount", "two decimals"),
        ("R 😀", "10", "receipt", "letters, digits"),
        ("R\x7f", "10", "receipt", "letters, digits"),
    ],
)
def test_a_bad_sale_is_explained_inline_and_the_form_keeps_what_was_typed(
    qtbot: QtBot, window: CounterWindow, db: Database, receipt: str, amount: str, field: str,
    expect: str,
) -> None:  # fmt: skip
    window.sale_panel.receipt.setText(receipt)
    window.sale_panel.amount.setText(amount)
    press(qtbot, window, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: window.sale_panel.error.text() != "")
    assert expect in window.sale_panel.error.text()
    assert window.sale_panel.receipt.text() == receipt and window.sale_panel.amount.text() == amount
    assert (window.sale_panel.amount if field == "amount" else window.sale_panel.receipt).hasFocus()
    assert db.raw().execute("SELECT count(*) FROM purchase").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("scan", "expect"),
    [
        ("\x1b[A\x1b[B", "garbled"),
        ("9" * 199, "phone"),
        ("9996009269870", "check digit"),
        ("4321", "No member found"),
        ("13812345678", "Not a member yet"),
    ],
)
def test_garbage_from_the_scanner_gets_a_clear_message(
    qtbot: QtBot, window: CounterWindow, scan: str, expect: str
) -> None:
    window.scan_panel.query.setText(scan)
    qtbot.keyClick(window.scan_panel.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.scan_panel.message.text() != "")
    assert expect in window.scan_panel.message.text()
    assert window.card is None


def test_a_cashier_cannot_reveal_a_phone_and_the_attempt_is_audited(
    qtbot: QtBot, app: CounterApp, db: Database, notice: Notice
) -> None:
    window = app.window
    code = _enrol(db, notice, PHONE, "王芳")
    sign_in(qtbot, window, CASHIER)
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    press(qtbot, window, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: "manager" in window.scan_panel.message.text())
    assert window.card_panel.phone.text() == "138****5678"
    member_id = window.card.id  # type: ignore[union-attr]
    assert ("refused:reveal_phone", CASHIER, member_id) in _audit(db)

    press(qtbot, window, Qt.Key.Key_F12)  # lock; the manager signs in at the same screen
    sign_in(qtbot, window, MANAGER)
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    press(qtbot, window, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: window.card_panel.phone.text() == "138 1234 5678")
    assert ("reveal_phone", MANAGER, member_id) in _audit(db)
    assert app.display is not None
    shown = " ".join(app.display.visible_text())
    assert PHONE not in shown and "王*" in shown and "王芳" not in shown


def test_signing_out_with_unsynced_sales_needs_a_manager(
    qtbot: QtBot, window: CounterWindow, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.write() as s:
        record_sale(s, receipt_no="R-9", amount="10", staff_id=CASHIER)
    monkeypatch.setattr(ManagerConfirm, "ask", classmethod(lambda cls, *a: None))
    press(qtbot, window, Qt.Key.Key_F12, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "HQ" in window.scan_panel.message.text())
    assert window.staff is not None and window.pages.currentWidget() is window.tabs

    monkeypatch.setattr(ManagerConfirm, "ask", classmethod(lambda cls, *a: (MANAGER, "000000")))
    press(qtbot, window, Qt.Key.Key_F12, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "PIN" in window.scan_panel.message.text())
    assert window.staff is not None

    asked: list[str] = []

    def manager_confirms(cls: type, staff: list, reason: str, parent: object) -> tuple[str, str]:
        asked.append(reason)
        return MANAGER, PINS[MANAGER]

    monkeypatch.setattr(ManagerConfirm, "ask", classmethod(manager_confirms))
    press(qtbot, window, Qt.Key.Key_F12, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.staff is None)
    assert "HQ" in asked[0]
    assert window.pages.currentWidget() is window.sign_in_page
    assert ("override_sync_guard", MANAGER, "sign_out") in _audit(db)


def test_the_screen_locks_after_idle_time_and_hides_the_customer(
    qtbot: QtBot, db: Database, db_path: Path, notice: Notice
) -> None:
    give_pins(db)
    code = _enrol(db, notice, PHONE, "王芳")
    with make_counter_app(qtbot, db, db_path.parent) as made:
        window = made.window
        window._idle.setInterval(300)
        sign_in(qtbot, window, CASHIER)
        type_enter(qtbot, window.scan_panel.query, code)
        qtbot.waitUntil(lambda: window.card is not None)
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.sign_in_page, timeout=3000)
        assert window.card is None and window.card_panel.name.text() != "王芳"
        assert "Locked" in window.sign_in_page.message.text()


def test_a_printer_that_fails_keeps_the_invite_on_screen_and_f7_retries(
    qtbot: QtBot, db: Database, db_path: Path
) -> None:
    give_pins(db)
    printed: list[IssuedInvite] = []
    fail = [True]

    def printer(invite: IssuedInvite) -> None:
        if fail[0]:
            raise PrintFailed("offline", "The receipt printer at 10.0.0.9 does not answer.")
        printed.append(invite)

    with make_counter_app(qtbot, db, db_path.parent) as made:
        window = made.window
        window.invite_panel.print_with(printer)
        sign_in(qtbot, window, CASHIER)
        type_enter(qtbot, window.sale_panel.receipt, "R-7")
        type_enter(qtbot, window.sale_panel.amount, "30")
        qtbot.waitUntil(lambda: window.invite_panel.invite is not None)
        press(qtbot, window, Qt.Key.Key_F7)
        qtbot.waitUntil(lambda: "Not printed" in window.invite_panel.print_message.text())
        assert "does not answer" in window.invite_panel.print_message.text()
        assert (
            not window.invite_panel.qr.pixmap().isNull() and window.invite_panel.invite is not None
        )
        assert db.raw().execute("SELECT count(*) FROM purchase").fetchone()[0] == 1
        fail[0] = False
        press(qtbot, window, Qt.Key.Key_F7)
        qtbot.waitUntil(lambda: window.invite_panel.print_message.text() == "Printed.")
        assert [p.token for p in printed] == [window.invite_panel.invite.token]


def test_esc_clears_the_customer_everywhere(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    code = _enrol(db, notice, PHONE, "王芳")
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    press(qtbot, window, Qt.Key.Key_Escape)
    assert (
        window.card is None
        and window.scan_panel.query.text() == ""
        and window.scan_panel.query.hasFocus()
    )
    assert window.display is not None and "王" not in " ".join(window.display.visible_text())


def test_f1_shows_every_key(qtbot: QtBot, window: CounterWindow) -> None:
    press(qtbot, window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.help_dialog.isVisible())
    text = window.help_dialog.findChild(QTextBrowser).toPlainText()
    for key in window.keys:
        assert key.shortcut in text and key.name in text
    assert {"F3", "F4", "F7", "Esc"} <= {key.shortcut for key in window.keys}


def test_item_models_pass_the_model_tester(
    qtbot: QtBot, qtmodeltester: object, window: CounterWindow, db: Database, notice: Notice
) -> None:
    _enrol(db, notice, PHONE, "王芳")
    _enrol(db, notice, PHONE_2, "李娜")
    type_enter(qtbot, window.scan_panel.query, "5678")
    qtbot.waitUntil(lambda: window.scan_panel.candidates.isVisible())
    qtmodeltester.check(window.scan_panel.candidate_model)  # type: ignore[attr-defined]
    qtmodeltester.check(window.sign_in_page.staff_model)  # type: ignore[attr-defined]
    qtmodeltester.check(CandidateModel())  # type: ignore[attr-defined]
    qtmodeltester.check(StaffModel())  # type: ignore[attr-defined]


def test_settings_are_for_managers_only_and_are_saved(
    qtbot: QtBot, app: CounterApp, db: Database, db_path: Path
) -> None:
    window = app.window
    sign_in(qtbot, window, CASHIER)
    press(qtbot, window, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: "manager" in window.scan_panel.message.text())
    assert ("refused:change_settings", CASHIER, None) in _audit(db)

    press(qtbot, window, Qt.Key.Key_F12)
    sign_in(qtbot, window, MANAGER)
    press(qtbot, window, Qt.Key.Key_F10)
    qtbot.waitUntil(
        lambda: (
            window.settings_panel.dialog is not None and window.settings_panel.dialog.isVisible()
        )
    )
    dialog = window.settings_panel.dialog
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    dialog.idle.setValue(7)
    dialog.printer_kind.setCurrentIndex(dialog.printer_kind.findData("network"))
    dialog.printer_address.setText("192.168.1.50:99999")
    dialog._save()
    assert "65535" in dialog.error.text() and dialog.isVisible()
    dialog.printer_address.setText("192.168.1.50")
    dialog._save()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    saved = load_settings(db_path.parent)
    assert (saved.ui_language, saved.idle_lock_minutes) == ("en", 7)
    assert saved.printer == {"kind": "network", "host": "192.168.1.50", "port": 9100}
    assert window._idle.interval() == 7 * 60_000
    assert ("change_settings", MANAGER, None) in _audit(db)


def test_the_sign_in_list_fills_when_the_first_sync_brings_the_roster(
    qtbot: QtBot, db: Database, db_path: Path
) -> None:
    with make_counter_app(qtbot, db, db_path.parent) as made:
        window = made.window
        settle(qtbot, window)
        assert window.sign_in_page.staff_model.rowCount() == 0
        assert "register" in window.sign_in_page.message.text()
        give_pins(db)  # as HQ's roster arrives with a sync
        window.sync_panel.synced(RoundResult(applied=3))
        qtbot.waitUntil(lambda: window.sign_in_page.staff_model.rowCount() == 3)
        sign_in(qtbot, window, CASHIER)


def test_only_a_manager_asks_hq_for_another_guide_and_it_travels_as_an_event(
    qtbot: QtBot, app: CounterApp, db: Database, notice: Notice, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = app.window
    code = _enrol(db, notice, PHONE, "王芳")  # enrolled by the cashier, who is its guide
    monkeypatch.setattr(GuidePicker, "ask", classmethod(lambda cls, guides, current, parent: GUIDE))
    sign_in(qtbot, window, CASHIER)
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    press(qtbot, window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "manager" in window.scan_panel.message.text())
    member_id = window.card.id  # type: ignore[union-attr]
    assert ("refused:reassign_customer", CASHIER, member_id) in _audit(db)

    press(qtbot, window, Qt.Key.Key_F12)
    sign_in(qtbot, window, MANAGER)
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    press(qtbot, window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "HQ" in window.scan_panel.message.text())
    events = db.raw().execute(
        "SELECT payload FROM outbox_event WHERE type = 'assignment.requested'"
    )
    payloads = [row[0] for row in events]
    assert len(payloads) == 1 and GUIDE in payloads[0] and member_id in payloads[0]


def test_the_guide_chosen_in_the_enrol_dialog_looks_after_the_new_member(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    qtbot.keyClicks(dialog.phone, PHONE)
    dialog.guide.setCurrentIndex(dialog.guide.findData(GUIDE))
    dialog.consents[Purpose.MEMBERSHIP].setChecked(True)
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card is not None)
    row = db.raw().execute("SELECT guide_id, enrolled_by FROM member").fetchone()
    assert row == (GUIDE, CASHIER)


def test_a_child_joins_only_with_a_guardians_consent(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    qtbot.keyClicks(dialog.phone, PHONE)
    dialog.birthday.setText(f"{date.today().year - 10}-06-01")
    dialog.consents[Purpose.MEMBERSHIP].setChecked(True)
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "guardian" in dialog.consent_error.text())
    assert db.raw().execute("SELECT count(*) FROM member").fetchone()[0] == 0
    dialog.guardian.setChecked(True)
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card is not None)
    row = db.raw().execute("SELECT guardian_consent FROM member").fetchone()
    assert row == (1,)
