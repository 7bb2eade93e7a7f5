"""F11: the buyer types their own phone on the customer display, by mouse (or touch), and the
counter shows only the masked number and the result, on a real window and database."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from counter_harness import press, settle
from lookup_harness import FakeHq, ask_with
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget
from pytestqt.qtbot import QtBot
from roster import CASHIER

from posapp.domain.consent import Notice, Purpose
from posapp.resources import notice_line
from posapp.services.members import enrol_member
from posapp.store.db import Database
from posapp.ui.counter_window import CounterWindow
from posapp.ui.customer_display import CustomerDisplay
from posapp.ui.keypad import BuyerKeypad

PHONE = "13812345678"
MASKED = "138****5678"
UNKNOWN = "13987654321"
TEXT_GETTERS = ("text", "toPlainText", "currentText", "placeholderText", "toolTip", "windowTitle")


@pytest.fixture
def display(window: CounterWindow) -> CustomerDisplay:
    """The customer display, as on its own (touch) monitor facing the buyer."""
    assert window.display is not None
    window.display.own_screen = True
    return window.display


def _enrol(db: Database, notice: Notice, phone: str, name: str) -> str:
    with db.write() as s:
        return enrol_member(
            s, phone=phone, consents={Purpose.MEMBERSHIP}, notice=notice, staff_id=CASHIER,
            name=name,
        ).member_code  # fmt: skip


def counter_texts(window: CounterWindow) -> list[str]:
    """Every text of every widget the counter screen holds: its own, its dialogs', its lists'."""
    widgets = [window, *window.findChildren(QWidget)]
    widgets += [w for w in QApplication.topLevelWidgets() if not isinstance(w, CustomerDisplay)]
    texts: list[str] = []
    for widget in widgets:
        if isinstance(widget, CustomerDisplay) or isinstance(widget.window(), CustomerDisplay):
            continue
        for getter in TEXT_GETTERS:
            method = getattr(widget, getter, None)
            if callable(method):
                try:
                    value = method()
                except TypeError:  # an overload that needs arguments
                    continue
                if isinstance(value, str):
                    texts.append(value)
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            try:
                columns = model.columnCount(QModelIndex())
            except TypeError:  # a list model's one column (its count is private to it)
                columns = 1
            for row in range(model.rowCount(QModelIndex())):
                texts += [str(model.index(row, column).data()) for column in range(columns)]
    return texts


def assert_never_shown(window: CounterWindow, phone: str) -> None:
    shown = "\n".join(counter_texts(window))
    digits = phone[-11:]
    assert digits not in shown and digits.replace(" ", "") not in shown.replace(" ", "")


def tap(qtbot: QtBot, keypad: BuyerKeypad, keys: str) -> None:
    """The buyer's finger (a mouse click here) on each key in turn; ``<`` backspace, ``C``
    clear, ``=`` OK."""
    names = {"<": "backspace", "C": "clear", "=": "ok"}
    for key in keys:
        qtbot.mouseClick(keypad.keys[names.get(key, key)], Qt.MouseButton.LeftButton)


def test_a_member_types_their_phone_and_the_counter_shows_their_card_masked(
    qtbot: QtBot,
    window: CounterWindow,
    display: CustomerDisplay,
    db: Database,
    notice: Notice,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _enrol(db, notice, PHONE, "王芳")
    press(qtbot, window, Qt.Key.Key_F11)
    notice = window.counter.notice()
    assert display.keypad_open
    assert display.keypad.privacy.text() == notice_line(notice.language, notice.version)
    assert "privacy" in display.keypad.privacy.text() or "隐私" in display.keypad.privacy.text()
    tap(qtbot, display.keypad, "1389<12345678")
    assert display.keypad.entry.text() == "138 1234 5678"  # the buyer sees what they typed
    assert_never_shown(window, PHONE)
    tap(qtbot, display.keypad, "=")
    assert MASKED in window.scan_panel.message.text()  # while the look-up runs
    assert_never_shown(window, PHONE)
    qtbot.waitUntil(lambda: window.card is not None)
    settle(qtbot, window)
    assert window.card_panel.name.text() == "王芳"
    assert window.card_panel.phone.text() == MASKED
    assert MASKED in window.scan_panel.message.text()
    assert_never_shown(window, PHONE)
    assert not display.keypad_open and PHONE not in " ".join(display.visible_text())
    assert display.welcome.text() == "Welcome back"
    assert not [r for r in caplog.records if PHONE in r.getMessage()]


def test_an_unknown_phone_opens_the_enrol_dialog_filled_in_with_every_consent_unticked(
    qtbot: QtBot,
    window: CounterWindow,
    display: CustomerDisplay,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    press(qtbot, window, Qt.Key.Key_F11)
    tap(qtbot, display.keypad, UNKNOWN + "=")
    assert_never_shown(window, UNKNOWN)
    qtbot.waitUntil(lambda: window.enrol_panel.dialog is not None)
    dialog = window.enrol_panel.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.phone.text() == "139****4321" and dialog.phone.isReadOnly()
    assert not any(box.isChecked() for box in dialog.consents.values())
    assert dialog.phone_error.text() == ""
    assert_never_shown(window, UNKNOWN)
    assert window.card is None

    dialog.consents[Purpose.MEMBERSHIP].setChecked(True)  # the buyer said yes to membership
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: window.card is not None and not dialog.isVisible())
    row = db.raw().execute("SELECT count(*) FROM member WHERE phone_e164=?", ("+86" + UNKNOWN,))
    assert row.fetchone() == (1,)  # the number behind the mask, not the mask
    assert window.card_panel.phone.text() == "139****4321"
    assert_never_shown(window, UNKNOWN)
    assert not [r for r in caplog.records if UNKNOWN in r.getMessage()]


def test_esc_at_the_counter_cancels_the_keypad_and_keeps_the_customer(
    qtbot: QtBot, window: CounterWindow, display: CustomerDisplay, db: Database, notice: Notice
) -> None:
    _enrol(db, notice, PHONE, "王芳")
    window.scan_panel.query.setText(PHONE)
    window.scan_panel.identify()
    qtbot.waitUntil(lambda: window.card is not None)
    press(qtbot, window, Qt.Key.Key_F11)
    tap(qtbot, display.keypad, "13987")
    press(qtbot, window, Qt.Key.Key_Escape)
    assert not display.keypad_open and display.keypad.digits == ""
    assert "13987" not in " ".join(display.visible_text())
    assert display.welcome.text().startswith("Welcome to")  # the display's idle screen
    assert window.card is not None  # the first Esc ends the keypad only
    assert "cancelled" in window.scan_panel.message.text()
    settle(qtbot, window)  # the card's own reads (where the member joined) are done
    tap(qtbot, display.keypad, "1=")  # a put-away keypad takes no keys
    assert display.keypad.digits == "" and not window.tasks.busy

    press(qtbot, window, Qt.Key.Key_Escape)
    assert window.card is None


def test_the_keypad_goes_back_to_idle_when_nobody_types(
    qtbot: QtBot, window: CounterWindow, display: CustomerDisplay
) -> None:
    settings = window.settings_panel.settings
    assert settings is not None
    settings.buyer_keypad_seconds = 0.4
    press(qtbot, window, Qt.Key.Key_F11)
    tap(qtbot, display.keypad, "138")
    assert display.keypad_open
    qtbot.waitUntil(lambda: not display.keypad_open, timeout=3000)
    assert display.welcome.text().startswith("Welcome to") and display.keypad.digits == ""
    assert "138" not in " ".join(display.visible_text())
    assert "in time" in window.scan_panel.message.text()


def test_a_key_pressed_keeps_the_keypad_waiting(
    qtbot: QtBot, window: CounterWindow, display: CustomerDisplay
) -> None:
    settings = window.settings_panel.settings
    assert settings is not None
    settings.buyer_keypad_seconds = 0.6
    press(qtbot, window, Qt.Key.Key_F11)
    for digit in "1381234":  # 0.35 s apart: longer, together, than the wait for one key
        qtbot.wait(350)
        tap(qtbot, display.keypad, digit)
        assert display.keypad_open
    assert display.keypad.digits == "1381234"


def test_on_a_single_screen_the_keypad_is_a_dialog_hiding_the_middle_digits(
    qtbot: QtBot, window: CounterWindow, db: Database, notice: Notice
) -> None:
    assert window.display is not None and not window.display.own_screen  # one offscreen screen
    _enrol(db, notice, PHONE, "王芳")
    press(qtbot, window, Qt.Key.Key_F11)
    dialog = window.keypad_panel.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert not window.display.keypad_open
    tap(qtbot, dialog.keypad, PHONE)
    assert dialog.keypad.entry.text() == "138 **** 5678"
    assert_never_shown(window, PHONE)
    tap(qtbot, dialog.keypad, "=")
    assert_never_shown(window, PHONE)
    qtbot.waitUntil(lambda: window.card is not None)
    assert not dialog.isVisible() and window.card_panel.phone.text() == MASKED
    assert_never_shown(window, PHONE)


def test_esc_closes_the_single_screen_keypad(qtbot: QtBot, window: CounterWindow) -> None:
    press(qtbot, window, Qt.Key.Key_F11)
    dialog = window.keypad_panel.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    tap(qtbot, dialog.keypad, "139")
    qtbot.keyClick(dialog.keypad, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.keypad.digits == ""


@pytest.mark.parametrize(
    ("keys", "expect"),
    [
        ("=", "Type your mobile number first."),
        ("1381234", "has 11 digits; this has 7"),
        ("138123456789", "has 11 digits; this has 12"),
        ("02167891234", "landline"),
        ("99912345678", "A mobile number here has 11 digits."),
    ],
)
def test_garbage_is_refused_on_the_keypad_naming_what_passes_and_nothing_is_lost(
    qtbot: QtBot, window: CounterWindow, display: CustomerDisplay, keys: str, expect: str
) -> None:
    press(qtbot, window, Qt.Key.Key_F11)
    tap(qtbot, display.keypad, keys.rstrip("=") + "=")
    assert expect in display.keypad.message.text()
    assert display.keypad.message.property("error") is True
    assert display.keypad.digits == keys.rstrip("=") and display.keypad_open
    settle(qtbot, window)
    assert window.card is None and window.enrol_panel.dialog is None

    tap(qtbot, display.keypad, "C" + UNKNOWN)  # put right, it goes through
    assert display.keypad.message.text() == ""
    tap(qtbot, display.keypad, "=")
    qtbot.waitUntil(lambda: window.enrol_panel.dialog is not None)


def test_a_finger_on_the_touch_display_types_as_a_click_does(
    qtbot: QtBot, window: CounterWindow, display: CustomerDisplay
) -> None:
    press(qtbot, window, Qt.Key.Key_F11)
    finger = QTest.createTouchDevice()
    for key in "1398<87654321":
        button = display.keypad.keys["backspace" if key == "<" else key]
        centre = QPoint(button.width() // 2, button.height() // 2)
        QTest.touchEvent(button, finger).press(0, centre, button).commit()
        QTest.touchEvent(button, finger).release(0, centre, button).commit()
    qtbot.waitUntil(lambda: display.keypad.digits == UNKNOWN)


def test_a_lock_puts_the_keypad_away_with_what_was_typed(
    qtbot: QtBot, window: CounterWindow, display: CustomerDisplay
) -> None:
    press(qtbot, window, Qt.Key.Key_F11)
    tap(qtbot, display.keypad, "1381234")
    press(qtbot, window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.sign_in_page)
    assert not display.keypad_open and display.keypad.digits == ""
    assert "1381234" not in " ".join(display.visible_text())


def test_a_sync_bringing_the_store_name_leaves_the_keypad_open(
    qtbot: QtBot, window: CounterWindow, display: CustomerDisplay
) -> None:
    press(qtbot, window, Qt.Key.Key_F11)
    tap(qtbot, display.keypad, "138")
    display.set_store_name("静安店")
    assert display.keypad_open and display.keypad.digits == "138"


@pytest.fixture
def hq_answering(request: pytest.FixtureRequest) -> Iterator[FakeHq]:
    fake = FakeHq(request.param)
    yield fake
    fake.stop()


@pytest.mark.parametrize("hq_answering", ["member"], indirect=True)
def test_another_stores_member_typing_their_phone_is_recognised_through_hq(
    qtbot: QtBot, window: CounterWindow, display: CustomerDisplay, hq_answering: FakeHq
) -> None:
    """The keypad asks HQ on a local miss, as the scan box does: no second enrolment."""
    ask_with(window, hq_answering)
    press(qtbot, window, Qt.Key.Key_F11)
    tap(qtbot, display.keypad, PHONE + "=")
    qtbot.waitUntil(lambda: window.card is not None, timeout=5_000)
    settle(qtbot, window)
    assert hq_answering.asked == 1
    assert window.card_panel.name.text() == "王芳" and window.card_panel.phone.text() == MASKED
    qtbot.waitUntil(lambda: window.card_panel.origin.text() != "", timeout=3_000)
    assert window.card_panel.origin.text() == "Member since 2026-03-08 at Store A"
    assert window.enrol_panel.dialog is None or not window.enrol_panel.dialog.isVisible()
    assert_never_shown(window, PHONE)


@pytest.mark.parametrize("hq_answering", ["500"], indirect=True)
def test_with_hq_failing_the_typed_phone_goes_to_enrolment(
    qtbot: QtBot, window: CounterWindow, display: CustomerDisplay, hq_answering: FakeHq
) -> None:
    ask_with(window, hq_answering)
    press(qtbot, window, Qt.Key.Key_F11)
    tap(qtbot, display.keypad, PHONE + "=")
    qtbot.waitUntil(lambda: window.enrol_panel.dialog is not None, timeout=5_000)
    dialog = window.enrol_panel.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert hq_answering.asked == 1 and window.card is None
    assert dialog.phone.text() == MASKED
    assert_never_shown(window, PHONE)
    dialog.reject()
