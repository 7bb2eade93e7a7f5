"""The counter at a real till (issue 20): a scan means the scan, nothing carries over from one
customer to the next, the guide who served is credited. Each test drives the real window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from counter_harness import choose_guide, give_pins, press, settle, sign_in, type_enter, wedge
from counter_harness import counter_app as make_counter_app
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from roster import CASHIER, GUIDE, MANAGER

from posapp.domain.consent import Notice, Purpose
from posapp.services.members import enrol_member
from posapp.store.db import Database
from posapp.sync.engine import RoundResult
from posapp.ui.app import CounterApp
from posapp.ui.counter_window import CounterWindow
from posapp.ui.enrol_dialog import EnrolDialog

PHONE = "13812345678"
PHONE_2 = "13912345678"  # same last four digits


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
    type_enter(qtbot, window.scan_panel.query, "5678")
    qtbot.waitUntil(window.scan_panel.candidates.isVisible)
    assert window.scan_panel.candidates.hasFocus()
    return window.scan_panel.candidate_model.at(
        window.scan_panel.candidates.currentIndex().row()
    ).id


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
    assert not window.scan_panel.candidates.isVisible()
    press(qtbot, window, Qt.Key.Key_F2)
    type_enter(qtbot, window.sale_panel.receipt, "R-501")
    type_enter(qtbot, window.sale_panel.amount, "66")
    qtbot.waitUntil(lambda: "R-501" in window.sale_panel.done.text())
    assert _sale_member(db, "R-501") == other_id


def test_a_code_scanned_into_the_receipt_box_identifies_and_the_receipt_is_kept(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    member_id, code = _enrol(db, notice, PHONE, "王芳")
    press(qtbot, window, Qt.Key.Key_F2)
    qtbot.keyClicks(window.sale_panel.receipt, "R-77")
    qtbot.wait(150)  # a person's typing, then the scanner: a pause between the two
    wedge(qtbot, code)  # the scanner fires while the receipt box has the keyboard
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.card.id == member_id
    assert window.sale_panel.receipt.text() == "R-77"  # what the cashier typed is not lost
    assert _count(db, "purchase") == 0


def test_a_receipt_number_typed_in_the_receipt_box_stays_a_receipt(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    press(qtbot, window, Qt.Key.Key_F2)
    wedge(qtbot, "20261202001")  # digits, fast, Enter: but no member code or mobile
    assert window.sale_panel.amount.hasFocus() and window.sale_panel.receipt.text() == "20261202001"
    settle(qtbot, window)
    assert window.card is None


def test_a_scan_while_the_list_of_guides_is_open_identifies_and_picks_no_guide(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    member_id, code = _enrol(db, notice, PHONE, "王芳")
    press(qtbot, window, Qt.Key.Key_F5)
    view = window.sale_panel.guide_choice.view()
    qtbot.waitUntil(view.isVisible)
    qtbot.keyClick(QApplication.focusWidget() or view, Qt.Key.Key_Down)  # 王芳 highlighted
    wedge(qtbot, code)
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.card.id == member_id and not window.sale_panel.guide_choice.view().isVisible()
    assert window.sale_panel.serving_guide is None  # the member has no guide; nobody was picked
    choose_guide(qtbot, window, "王芳")  # the list still opens and chooses afterwards


def test_space_on_the_record_button_presses_it(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    window.sale_panel.receipt.setText("R-SP")
    window.sale_panel.amount.setText("12")
    window.sale_panel.record_button.setFocus()
    qtbot.keyClick(window.sale_panel.record_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "R-SP" in window.sale_panel.done.text())
    assert window.scan_panel.query.text() == ""


def test_a_scan_into_a_dialog_that_asked_for_text_stays_there(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    _enrol(db, notice, PHONE_2, "李娜")
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    qtbot.waitUntil(dialog.phone.hasFocus)
    wedge(qtbot, PHONE)  # the customer's phone, scanned from their screen into the form
    assert dialog.phone.text() == PHONE
    settle(qtbot, window)
    assert window.card is None and window.scan_panel.query.text() == ""


def test_a_scan_on_my_customers_tab_goes_to_the_counter_and_identifies(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    member_id, code = _enrol(db, notice, PHONE, "王芳")
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.customers_tab)
    window.customers_tab.table.setFocus()
    wedge(qtbot, code)
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.tabs.currentWidget() is window.counter_tab
    assert window.card.id == member_id


def _count(db: Database, table: str) -> int:
    return db.raw().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _lock_and_sign_in(qtbot: QtBot, window: CounterWindow) -> None:
    press(qtbot, window, Qt.Key.Key_F12)
    assert window.pages.currentWidget() is window.sign_in_page
    sign_in(qtbot, window, CASHIER)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.tabs)


# ---- 2. the walk-in's sale goes to the next enrolment only while it is theirs ----------------


def _walk_in_sale(qtbot: QtBot, window: CounterWindow, receipt: str, amount: str) -> None:
    press(qtbot, window, Qt.Key.Key_F2)
    type_enter(qtbot, window.sale_panel.receipt, receipt)
    type_enter(qtbot, window.sale_panel.amount, amount)
    qtbot.waitUntil(lambda: receipt in window.sale_panel.done.text())


def _enrol_at_counter(
    qtbot: QtBot, window: CounterWindow, phone: str, *, untick: bool = False
) -> EnrolDialog:
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    qtbot.waitUntil(dialog.phone.hasFocus)
    qtbot.keyClicks(dialog.phone, phone)
    if untick:
        dialog.credit_sale.setFocus()
        qtbot.keyClick(dialog.credit_sale, Qt.Key.Key_Space)
    dialog.consents[Purpose.MEMBERSHIP].setFocus()
    qtbot.keyClick(dialog.consents[Purpose.MEMBERSHIP], Qt.Key.Key_Space)
    return dialog


def _submit(qtbot: QtBot, window: CounterWindow, dialog: EnrolDialog) -> None:
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card is not None and not dialog.isVisible())


def test_the_enrol_dialog_says_the_walk_in_sale_becomes_theirs_and_it_does(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    _walk_in_sale(qtbot, window, "R-3", "88")
    dialog = _enrol_at_counter(qtbot, window, PHONE)
    assert dialog.credit_sale.isVisible() and dialog.credit_sale.isChecked()
    assert "¥88.00" in dialog.credit_sale.text() and "R-3" in dialog.credit_sale.text()
    _submit(qtbot, window, dialog)
    assert _sale_member(db, "R-3") == window.card.id
    assert "R-3" in window.scan_panel.message.text()


def test_an_unticked_walk_in_sale_stays_anonymous(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    _walk_in_sale(qtbot, window, "R-4", "88")
    dialog = _enrol_at_counter(qtbot, window, PHONE, untick=True)
    _submit(qtbot, window, dialog)
    assert _sale_member(db, "R-4") is None


@pytest.mark.parametrize("ends_by", ["esc", "lock", "another_sale", "timeout"])
def test_the_walk_in_sale_is_not_offered_after_the_customer_changed(
    qtbot: QtBot, window: CounterWindow, db: Database, ends_by: str
) -> None:
    _walk_in_sale(qtbot, window, "R-5", "88")
    if ends_by == "esc":
        press(qtbot, window, Qt.Key.Key_Escape)
    elif ends_by == "lock":
        _lock_and_sign_in(qtbot, window)
    elif ends_by == "another_sale":
        press(qtbot, window, Qt.Key.Key_F2)
        qtbot.keyClicks(window.sale_panel.receipt, "R-6")
    else:
        window.sale_panel._walk_in_hold.setInterval(200)
        window.sale_panel._walk_in_hold.start()
        qtbot.waitUntil(lambda: window.sale_panel.walk_in_sale is None, timeout=2000)
    dialog = _enrol_at_counter(qtbot, window, PHONE)
    assert not dialog.credit_sale.isVisible()
    _submit(qtbot, window, dialog)
    assert _sale_member(db, "R-5") is None


# ---- 3. the customer display follows the counter ------------------------------------------


def _display_text(window: CounterWindow) -> str:
    assert window.display is not None
    return " ".join(window.display.visible_text())


def _display_has_qr(window: CounterWindow) -> bool:
    assert window.display is not None
    return not window.display.qr.pixmap().isNull()


def test_the_customer_display_follows_each_counter_state(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    _, code = _enrol(db, notice, PHONE_2, "李娜")
    assert "Welcome to" in _display_text(window) and not _display_has_qr(window)
    _walk_in_sale(qtbot, window, "R-7", "88")
    assert _display_has_qr(window) and "Scan to join" in _display_text(window)
    dialog = _enrol_at_counter(qtbot, window, PHONE)
    _submit(qtbot, window, dialog)
    text = _display_text(window)
    assert "now a member" in text and "Scan to join" not in text and "Welcome back" not in text
    assert not _display_has_qr(window)
    press(qtbot, window, Qt.Key.Key_Escape)
    assert "Welcome to" in _display_text(window) and not _display_has_qr(window)
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    text = _display_text(window)
    assert "Welcome back" in text and "Scan to" not in text and not _display_has_qr(window)
    _walk_in_sale(qtbot, window, "R-8", "20")  # a member's sale: the next rung, not joining
    assert "Scan to join" not in _display_text(window)


# ---- 5. nothing carries over from one customer or one person to the next ------------------


def test_esc_lock_and_sign_in_start_clean(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    _, code = _enrol(db, notice, PHONE, "王芳")
    press(qtbot, window, Qt.Key.Key_F2)
    qtbot.keyClicks(window.sale_panel.receipt, "R-9")
    window.sale_panel.amount.setFocus()
    qtbot.keyClicks(window.sale_panel.amount, "12")
    press(qtbot, window, Qt.Key.Key_Escape)
    assert window.sale_panel.receipt.text() == "" and window.sale_panel.amount.text() == ""
    _walk_in_sale(qtbot, window, "R-10", "30")
    assert window.sale_panel.done.text()
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.sale_panel.done.text() == ""  # the last customer's sale is not this one's
    window.scan_panel.query.setFocus()
    window.scan_panel.query.setText(
        "9abc\x07"
    )  # scanner garbage (QTest types no control characters)
    qtbot.keyClick(window.scan_panel.query, Qt.Key.Key_Return)  # a red error ...
    qtbot.waitUntil(lambda: window.scan_panel.message.property("error") is True)
    assert window.sale_panel.done.text() == ""  # ... never beside an old green success
    _walk_in_sale(qtbot, window, "R-11", "30")
    assert window.scan_panel.message.text() == "" or not window.scan_panel.message.property("error")
    _lock_and_sign_in(qtbot, window)
    for label in (
        window.scan_panel.message,
        window.sale_panel.done,
        window.sale_panel.error,
        window.invite_panel.print_message,
    ):
        assert label.text() == "", label.objectName()
    assert (
        window.card is None
        and window.scan_panel.query.text() == ""
        and window.sale_panel.receipt.text() == ""
    )


# ---- 4. the guide who served is credited, not whoever is signed in --------------------------


def test_cashiers_are_never_offered_as_guides(window: CounterWindow) -> None:
    offered = [
        window.sale_panel.guide_choice.itemData(i)
        for i in range(window.sale_panel.guide_choice.count())
    ]
    assert offered == [None, GUIDE, MANAGER]  # no guide, then the store's guides and managers
    assert window.sale_panel.serving_guide is None


def test_the_serving_guide_is_credited_on_the_sale_the_invite_and_the_enrolment(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    choose_guide(qtbot, window, "王芳")
    assert "王芳" in window.scan_panel.message.text()  # the choice answers visibly
    _walk_in_sale(qtbot, window, "R-20", "88")
    sale = db.raw().execute("SELECT staff_id, guide_id FROM purchase WHERE receipt_no='R-20'")
    assert sale.fetchone() == (CASHIER, GUIDE)  # rung up by the cashier, served by the guide
    invite = db.raw().execute("SELECT staff_id FROM invite ORDER BY issued_at DESC LIMIT 1")
    assert invite.fetchone()[0] == GUIDE
    dialog = _enrol_at_counter(qtbot, window, PHONE)
    assert dialog.guide.currentData() == GUIDE  # the enrolment takes the serving guide
    _submit(qtbot, window, dialog)
    member = db.raw().execute("SELECT guide_id, joined_guide_id, enrolled_by FROM member")
    assert member.fetchone() == (GUIDE, GUIDE, CASHIER)
    payloads = [
        json.loads(p)
        for (p,) in db.raw().execute(
            "SELECT payload FROM outbox_event WHERE type IN ('sale.recorded', 'member.enrolled')"
        )
    ]
    assert [(p.get("staff_id"), p.get("guide_id")) for p in payloads] == [
        (CASHIER, GUIDE),
        (CASHIER, GUIDE),
    ]


def test_the_serving_guide_defaults_to_the_members_own_then_the_last_chosen(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    member_id, code = _enrol(db, notice, PHONE, "王芳")
    db.raw().execute("UPDATE member SET guide_id = ? WHERE id = ?", (MANAGER, member_id))
    db.raw().commit()
    choose_guide(qtbot, window, "王芳")
    press(qtbot, window, Qt.Key.Key_Escape)
    assert (
        window.sale_panel.serving_guide == GUIDE
    )  # a walk-in: the guide last chosen at this counter
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.sale_panel.serving_guide == MANAGER  # the member's own guide
    press(qtbot, window, Qt.Key.Key_Escape)
    assert window.sale_panel.serving_guide == GUIDE


# ---- 6. ¥0.00 is a gift only when the cashier says so ------------------------------------


def test_a_zero_sale_is_questioned_and_recorded_only_as_a_confirmed_gift(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    press(qtbot, window, Qt.Key.Key_F2)
    type_enter(qtbot, window.sale_panel.receipt, "R-0")
    type_enter(qtbot, window.sale_panel.amount, "0.00")
    qtbot.waitUntil(lambda: "gift" in window.sale_panel.error.text())
    assert "F4" in window.sale_panel.error.text() and _count(db, "purchase") == 0
    assert window.sale_panel.amount.hasFocus()
    press(qtbot, window, Qt.Key.Key_F4)  # the cashier confirms: a free gift
    qtbot.waitUntil(lambda: "R-0" in window.sale_panel.done.text())
    assert "gift" in window.sale_panel.done.text() and window.sale_panel.error.text() == ""
    assert db.raw().execute("SELECT amount_fen FROM purchase").fetchall() == [(0,)]


def test_enter_twice_on_zero_is_not_a_gift_and_the_amount_typed_then_is_the_sale(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    press(qtbot, window, Qt.Key.Key_F2)
    type_enter(qtbot, window.sale_panel.receipt, "R-00")
    type_enter(qtbot, window.sale_panel.amount, "0")
    qtbot.waitUntil(lambda: "gift" in window.sale_panel.error.text())
    qtbot.keyClick(
        window.sale_panel.amount, Qt.Key.Key_Return
    )  # Enter again: a slip, not a decision
    settle(qtbot, window)
    assert _count(db, "purchase") == 0 and "gift" in window.sale_panel.error.text()
    window.sale_panel.amount.selectAll()
    type_enter(qtbot, window.sale_panel.amount, "35.50")
    qtbot.waitUntil(lambda: "R-00" in window.sale_panel.done.text())
    assert "gift" not in window.sale_panel.done.text()
    assert db.raw().execute("SELECT amount_fen FROM purchase").fetchall() == [(3550,)]


# ---- 8. every key answers where the cashier looks ------------------------------------------


def test_f9_on_a_counter_not_registered_says_so(qtbot: QtBot, window: CounterWindow) -> None:
    press(qtbot, window, Qt.Key.Key_F9)
    assert "not registered" in window.scan_panel.message.text()


def test_f6_on_a_walk_in_with_its_only_qr_says_so(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    press(qtbot, window, Qt.Key.Key_F6)  # no QR yet: F6 shows the walk-in's join QR
    qtbot.waitUntil(lambda: window.invite_panel.invite is not None)
    press(qtbot, window, Qt.Key.Key_F6)
    assert "only QR" in window.scan_panel.message.text()


def test_a_revealed_phone_reads_as_a_phone_and_hides_again(
    qtbot: QtBot, db: Database, db_path: Path, notice: Notice
) -> None:
    give_pins(db)
    _, code = _enrol(db, notice, PHONE, "王芳")
    _, code_2 = _enrol(db, notice, PHONE_2, "李娜")
    with make_counter_app(qtbot, db, db_path.parent) as made:
        window = made.window
        sign_in(qtbot, window, MANAGER)

        def reveal(member_code: str) -> None:
            type_enter(qtbot, window.scan_panel.query, member_code)
            qtbot.waitUntil(
                lambda: window.card is not None and window.card.summary.member_code == member_code
            )
            press(qtbot, window, Qt.Key.Key_F8)
            qtbot.waitUntil(lambda: "****" not in window.card_panel.phone.text())

        reveal(code)
        assert window.card_panel.phone.text() == "138 1234 5678"  # not +8613812345678
        assert "30 seconds" in window.scan_panel.message.text()
        type_enter(qtbot, window.scan_panel.query, code_2)  # the next customer
        qtbot.waitUntil(lambda: window.card.summary.member_code == code_2)
        assert window.card_panel.phone.text() == "139****5678"
        reveal(code_2)
        press(qtbot, window, Qt.Key.Key_Escape)
        assert "5678" not in window.card_panel.phone.text()
        window.card_panel._hide_phone.setInterval(200)
        reveal(code)
        qtbot.waitUntil(lambda: window.card_panel.phone.text() == "138****5678", timeout=2000)


# ---- 9. messages name the rule and what would pass; boxes hold what the rule allows ----------


def test_a_phone_one_digit_short_says_how_many_digits_a_mobile_has(
    qtbot: QtBot, window: CounterWindow
) -> None:
    type_enter(qtbot, window.scan_panel.query, "1381234567")
    qtbot.waitUntil(lambda: window.scan_panel.message.text() != "")
    assert (
        "11 digits" in window.scan_panel.message.text() and "10" in window.scan_panel.message.text()
    )


@pytest.mark.parametrize(
    ("panel", "box", "limit"),
    [("scan_panel", "query", 64), ("sale_panel", "receipt", 64), ("sale_panel", "amount", 20)],
)
def test_a_box_holds_what_its_rule_allows_and_says_so(
    qtbot: QtBot, window: CounterWindow, panel: str, box: str, limit: int
) -> None:
    field = getattr(getattr(window, panel), box)
    field.setFocus()
    qtbot.keyClicks(field, "7" * (limit + 30))
    assert len(field.text()) == limit
    said = window.scan_panel.message if box == "query" else window.sale_panel.error
    assert f"At most {limit} characters" in said.text()
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    assert "At most" not in said.text()  # gone as soon as it no longer applies


def test_a_name_refusal_gives_the_limit_and_goes_when_the_name_is_fixed(
    qtbot: QtBot, window: CounterWindow
) -> None:
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    dialog.name.setText("王" * 70)  # pasted
    assert "at most 64 characters" in dialog.name_error.text()
    assert "70" in dialog.name_error.text()
    dialog.name.setText("王" * 64)
    assert dialog.name_error.text() == ""
    dialog.name.setText("😀" * 64)  # 64 characters the rule counts, 128 in the box
    assert dialog.name.text() == "😀" * 64 and dialog.name_error.text() == ""


# ---- 10. what the customer sees names the brand's store, and reads as meant -------------------


def test_the_display_greets_a_member_without_a_name_in_words(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    with db.write() as s:
        code = enrol_member(
            s, phone=PHONE, consents={Purpose.MEMBERSHIP}, notice=window.counter.notice(),
            staff_id=CASHIER,
        ).member_code  # fmt: skip
    type_enter(qtbot, window.scan_panel.query, code)
    qtbot.waitUntil(lambda: window.card is not None)
    assert window.display is not None
    assert window.display.greeting.text() == "Dear member"  # not "Member · member"
    assert "posapp" not in _display_text(window).lower()
    press(qtbot, window, Qt.Key.Key_Escape)
    assert window.display.welcome.text() == "Welcome to 测试门店"  # HQ's name for the store


def test_the_customer_reads_the_privacy_notice_on_their_display(
    qtbot: QtBot, window: CounterWindow
) -> None:
    press(qtbot, window, Qt.Key.Key_F3)
    dialog = window.enrol_panel.dialog
    qtbot.mouseClick(dialog.notice_to_customer, Qt.MouseButton.LeftButton)
    assert window.display is not None
    assert window.display.notice.isVisibleTo(window.display)
    notice = window.display.notice.toPlainText()
    assert "隐私" in notice or "privacy" in notice.lower()
    assert notice in _display_text(window)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert not window.display.notice.isVisibleTo(window.display)


def test_a_sync_arriving_at_the_sign_in_page_keeps_whoever_is_being_chosen(
    qtbot: QtBot, app: CounterApp
) -> None:
    window = app.window
    settle(qtbot, window)
    page = window.sign_in_page
    page.staff.setCurrentIndex(page.staff_model.index(page.staff_model.row_of(MANAGER), 0))
    window.sync_panel.synced(
        RoundResult(applied=3)
    )  # HQ's changes came down: the roster is read again
    settle(qtbot, window)
    assert page.staff_model.person(page.staff.currentIndex().row()).staff_id == MANAGER


def test_f7_with_no_qr_on_screen_says_how_to_get_one(qtbot: QtBot, window: CounterWindow) -> None:
    press(qtbot, window, Qt.Key.Key_F7)
    assert "F6" in window.scan_panel.message.text()


# ---- found trying it: what the last person left open, and choices that must stick -----------


def test_a_lock_closes_the_enrol_dialog_so_the_next_person_cannot_submit_it(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    _walk_in_sale(qtbot, window, "R-L", "50")
    dialog = _enrol_at_counter(qtbot, window, PHONE)
    window.lock()  # the idle lock, while the dialog is open
    assert not dialog.isVisible()
    sign_in(qtbot, window, GUIDE)
    assert _count(db, "member") == 0 and _sale_member(db, "R-L") is None


def test_an_existing_member_enrolled_again_gets_the_walk_in_sale(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    member_id, _ = _enrol(db, notice, PHONE, "王芳")
    _walk_in_sale(qtbot, window, "R-E", "66")
    dialog = _enrol_at_counter(qtbot, window, PHONE)
    _submit(qtbot, window, dialog)
    assert (
        "Already a member" in window.scan_panel.message.text()
        and "R-E" in window.scan_panel.message.text()
    )
    assert _sale_member(db, "R-E") == member_id


def test_no_guide_chosen_by_a_manager_at_the_till_is_no_guide(
    qtbot: QtBot, db: Database, db_path: Path
) -> None:
    give_pins(db)
    with make_counter_app(qtbot, db, db_path.parent) as made:
        window = made.window
        sign_in(qtbot, window, MANAGER)  # a manager may guide, but said "no guide"
        dialog = _enrol_at_counter(qtbot, window, PHONE)
        assert dialog.guide.currentData() is None
        _submit(qtbot, window, dialog)
        row = db.raw().execute("SELECT guide_id, enrolled_by FROM member").fetchone()
        assert row == (None, MANAGER)


def test_f8_on_a_walk_in_says_to_scan_a_member(qtbot: QtBot, window: CounterWindow) -> None:
    press(qtbot, window, Qt.Key.Key_F8)
    assert "Scan the member first" in window.scan_panel.message.text()


def test_choosing_the_guide_after_the_sale_puts_them_on_the_qr(
    qtbot: QtBot, window: CounterWindow, db: Database
) -> None:
    _walk_in_sale(qtbot, window, "R-G", "40")
    first = window.invite_panel.invite
    assert first is not None
    choose_guide(qtbot, window, "王芳")
    qtbot.waitUntil(
        lambda: (
            window.invite_panel.invite is not None
            and window.invite_panel.invite.token != first.token
        )
    )
    staff = db.raw().execute(
        "SELECT staff_id FROM invite WHERE token = ?", (window.invite_panel.invite.token,)
    )
    assert staff.fetchone()[0] == GUIDE


def test_the_next_person_does_not_see_the_last_ones_customers(
    qtbot: QtBot, window: CounterWindow
) -> None:
    window.customers_tab.message.setText("Follow-up recorded for 王芳.")
    _lock_and_sign_in(qtbot, window)
    assert window.customers_tab.message.text() == ""
    assert window.customers_tab.model.rowCount() == 0
