"""A real counter window on a real SQLite file, driven by keys as a cashier would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from argon2 import PasswordHasher
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit
from pytestqt.qtbot import QtBot
from roster import CASHIER, GUIDE, MANAGER

from posapp.settings import load_settings
from posapp.store.db import Database
from posapp.store.models import Staff
from posapp.ui.app import CounterApp, install_language
from posapp.ui.counter_window import CounterWindow

PINS = {CASHIER: "2468", GUIDE: "1357", MANAGER: "135790"}


def give_pins(db: Database) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8192)
    with db.write() as session:
        for staff_id, pin in PINS.items():
            staff = session.get(Staff, staff_id)
            assert staff is not None
            staff.pin_hash = hasher.hash(pin)


@contextmanager
def counter_app(
    qtbot: QtBot, db: Database, data_dir: Path, **options: object
) -> Iterator[CounterApp]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    install_language(app, "en")
    settings = load_settings(data_dir)
    settings.intake_port = 0  # any free port: tests never fight over the POS's
    made = CounterApp(settings, db, with_intake=bool(options.pop("with_intake", False)), **options)  # type: ignore[arg-type]
    qtbot.addWidget(made.window)
    made.start()
    qtbot.waitExposed(made.window)
    made.window.activateWindow()
    try:
        yield made
    finally:
        made.stop()


def settle(qtbot: QtBot, window: CounterWindow) -> None:
    """Wait until every operation the window queued has answered."""
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10_000)


def type_text(qtbot: QtBot, widget: QLineEdit, text: str) -> None:
    """Keys for what a keyboard or scanner sends; an input method's commit for the rest
    (QTest cannot press keys for Chinese characters or emoji)."""
    widget.setFocus()
    if text.isascii():
        qtbot.keyClicks(widget, text)
    else:
        widget.insert(text)


def type_enter(qtbot: QtBot, widget: QLineEdit, text: str) -> None:
    type_text(qtbot, widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def press(
    qtbot: QtBot,
    window: CounterWindow,
    key: Qt.Key,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """An F-key as the keyboard sends it: to whatever has the focus, caught by the shortcut."""
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, key, modifier)


def sign_in(qtbot: QtBot, window: CounterWindow, staff_id: str) -> None:
    settle(qtbot, window)
    page = window.sign_in_page
    page.staff.setCurrentIndex(page.staff_model.index(page.staff_model.row_of(staff_id), 0))
    type_enter(qtbot, page.pin, PINS[staff_id])
    qtbot.waitUntil(lambda: window.staff is not None and window.staff.staff_id == staff_id)


def wedge(qtbot: QtBot, text: str) -> None:
    """A keyboard-wedge scanner: a burst of keys, then Enter, each to whatever has the focus
    when it arrives (as the OS delivers a scanner's keys), not to a widget the test picks."""
    for char in text:
        target = QApplication.focusWidget()
        assert target is not None, "nothing has the keyboard"
        qtbot.keyClick(target, char)
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClick(target, Qt.Key.Key_Return)


def choose_guide(qtbot: QtBot, window: CounterWindow, name: str) -> None:
    """F5, then arrows and Enter in the list that opened, as a cashier picks who served."""

    # The list is asked for afresh each time: PySide may swap the Python wrapper of the
    # combo's list while a key event filter handles it (the list itself lives on).
    def view() -> QAbstractItemView:
        return window.sale_panel.guide_choice.view()

    press(qtbot, window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: view().isVisible())
    target = window.sale_panel.guide_choice.findText(name)
    assert target >= 0, f"{name} is not offered"
    for _ in range(window.sale_panel.guide_choice.count()):
        if view().currentIndex().row() == target:
            break
        key = Qt.Key.Key_Down if view().currentIndex().row() < target else Qt.Key.Key_Up
        qtbot.keyClick(QApplication.focusWidget() or view(), key)
    qtbot.keyClick(QApplication.focusWidget() or view(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not view().isVisible())
    assert window.sale_panel.guide_choice.currentText() == name
