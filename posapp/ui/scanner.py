"""A keyboard-wedge scanner types into whatever has the focus: its scan still means the scan.

The scanner is a keyboard to the PC: a burst of keys ending in Enter, delivered to the
focused widget. Left alone, a member code scanned while the candidate list has the keyboard
picks the highlighted row, and one scanned into the receipt box becomes a receipt number.
This filter watches every key bound for the counter window (not its dialogs, which asked
for text) and sends each burst that names one member to identify instead:

- on the candidate list or a tab bar every printable key goes to the scan box, so a typed
  phone or a scan lands there and Enter identifies;
- anywhere else in the window (another text box, a button, the list of guides, a table
  whose letter and digit keys mean something) the burst is watched; if it ends in Enter,
  came faster than a person types and is a valid member code or mobile number, the box
  gets its text back, an open list closes unanswered, and the burst goes to identify.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDateTimeEdit,
    QLineEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

from posapp.domain.lookup import names_one_member

# A scanner sends a key every 1-10 ms; a quick typist rarely beats 60 ms between keys.
BURST_GAP_S = 0.05
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_TEXT_WIDGETS = (QLineEdit, QTextEdit, QAbstractSpinBox)
_MODIFIERS = (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta)


class WedgeScanner(QObject):
    """Routes scans to ``identify(text)``; ``active()`` says when the counter takes them."""

    def __init__(
        self,
        window: QWidget,
        scan_box: QLineEdit,
        *,
        active: Callable[[], bool],
        redirect: Callable[[QWidget], bool],
        identify: Callable[[str], None],
        region: str,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._scan_box = scan_box
        self._active = active
        self._redirect = redirect
        self._identify = identify
        self._region = region
        self._burst = ""
        self._last_key = 0.0
        self._restore: Callable[[], None] | None = None
        self._swallow_enter = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(event, QKeyEvent):
            return False
        override = event.type() == QEvent.Type.ShortcutOverride
        if not override and event.type() != QEvent.Type.KeyPress:
            return False
        if override and event.key() not in _ENTER:
            return False  # only Enter: an open list takes it here, before its key press
        if event.key() in _ENTER and not override and self._swallow_enter:
            self._swallow_enter = False  # the scan's Enter, already acted on at its override
            return True
        popup = QApplication.activePopupWidget()  # an open list takes the keys, not the focus
        target = (popup.focusWidget() or popup) if popup is not None else QApplication.focusWidget()
        if watched is not target or not isinstance(target, QWidget):
            return False  # the same key seen again on its way up the parents
        if target is self._scan_box or not self._mine(target) or not self._active():
            self._reset()
            return False
        if event.key() in _MODIFIERS:
            return False  # a scanner's Shift for "+" is part of the burst, not its end
        now = time.monotonic()
        gap = now - self._last_key
        if event.key() in _ENTER:
            burst, self._burst = self._burst, ""
            if burst and gap <= BURST_GAP_S and names_one_member(burst, self._region):
                self._give_back()
                self._close_pickers()
                self._identify(burst)
                self._swallow_enter = override
                return True
            if override:  # the key press follows and is judged the same way
                self._burst = burst
                return False
            self._restore = None
            return False
        text = event.text()
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if not text or not text.isprintable() or modifiers & ~Qt.KeyboardModifier.ShiftModifier:
            self._reset()
            return False
        if (
            isinstance(target, QAbstractItemView | QTabBar)
            and self._owned_directly(target)
            and (self._redirect(target))
        ):
            self._reset()
            self._scan_box.setFocus()
            self._scan_box.selectAll()  # the first key replaces the last query
            QApplication.sendEvent(self._scan_box, QKeyEvent(event))
            return True
        if gap > BURST_GAP_S:
            self._burst = ""
            self._restore = _keeper(target)
        self._burst += text
        self._last_key = now
        return False

    def _mine(self, widget: QWidget) -> bool:
        """A key for the counter window: its own widgets or an open list of its (the guides),
        never a dialog's. (A dialog is answered by its own keys: Ctrl+G's guide picker is a
        manager's deliberate act, and rejecting a dialog from inside its own key event
        crashed PySide in a test.)"""
        if QApplication.activeModalWidget() is not None:
            return False
        top = widget.window()
        if top is self._window:
            return True
        owner = top.parentWidget()
        return (
            top is QApplication.activePopupWidget()
            and owner is not None
            and (owner.window() is self._window)
        )

    def _owned_directly(self, widget: QWidget) -> bool:
        return widget.window() is self._window and QApplication.activePopupWidget() is None

    def _close_pickers(self) -> None:
        """A list open when the scan came closes unanswered: the scan wins."""
        popup = QApplication.activePopupWidget()
        if popup is not None:
            combo = popup.parentWidget()
            if isinstance(combo, QComboBox):
                combo.hidePopup()  # close() would delete the list the combo keeps
            else:
                popup.hide()

    def _give_back(self) -> None:
        """The box the burst landed in gets back what it held before it."""
        if self._restore is not None:
            self._restore()
        self._restore = None

    def _reset(self) -> None:
        self._burst = ""
        self._restore = None
        self._last_key = 0.0


def _keeper(widget: QWidget) -> Callable[[], None] | None:
    """How to put back what ``widget`` holds now, if it holds text a burst could change."""
    if isinstance(widget, QLineEdit):
        text, cursor = widget.text(), widget.cursorPosition()

        def line() -> None:
            widget.setText(text)
            widget.setCursorPosition(cursor)

        return line
    if isinstance(widget, QDateTimeEdit):
        moment = widget.dateTime()
        return lambda: widget.setDateTime(moment)
    return None
