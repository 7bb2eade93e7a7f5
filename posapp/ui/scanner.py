"""A keyboard-wedge scanner types into whatever has the focus: its scan still means the scan.

The scanner is a keyboard to the PC: a burst of keys ending in Enter, delivered to the
focused widget. Left alone, a member code scanned while the candidate list has the keyboard
picks the highlighted row, and one scanned into the receipt box becomes a receipt number.
This filter watches every key bound for the counter window (not its dialogs, which asked
for text) and sends each burst that names one member to identify instead:

- on a widget that takes no text (the candidate list, a tab, a button) every printable
  key goes to the scan box, so a typed phone or a scan lands there and Enter identifies;
- in another text box, or on a tab whose table uses letter and digit keys, the burst is
  watched; if it ends in Enter, came faster than a person types and is a valid member
  code or mobile number, the box gets its text back and the burst goes to identify.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QTextEdit, QWidget

from posapp.domain.lookup import names_one_member

# A scanner sends a key every 1-10 ms; a quick typist rarely beats 60 ms between keys.
BURST_GAP_S = 0.05
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_TEXT_WIDGETS = (QLineEdit, QTextEdit, QAbstractSpinBox)


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
        self._restore: tuple[QLineEdit, str, int] | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        target = QApplication.focusWidget()
        if watched is not target or not isinstance(target, QWidget):
            return False  # the same key seen again on its way up the parents
        if target is self._scan_box or not self._mine(target) or not self._active():
            self._reset()
            return False
        now = time.monotonic()
        gap = now - self._last_key
        if event.key() in _ENTER:
            burst, self._burst = self._burst, ""
            if burst and gap <= BURST_GAP_S and names_one_member(burst, self._region):
                self._give_back()
                self._identify(burst)
                return True
            self._restore = None
            return False
        text = event.text()
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if not text or not text.isprintable() or modifiers & ~Qt.KeyboardModifier.ShiftModifier:
            self._reset()
            return False
        if not isinstance(target, _TEXT_WIDGETS) and self._redirect(target):
            self._reset()
            self._scan_box.setFocus()
            self._scan_box.selectAll()  # the first key replaces the last query
            QApplication.sendEvent(self._scan_box, QKeyEvent(event))
            return True
        if gap > BURST_GAP_S:
            self._burst = ""
            self._restore = (
                (target, target.text(), target.cursorPosition())
                if isinstance(target, QLineEdit)
                else None
            )
        self._burst += text
        self._last_key = now
        return False

    def _mine(self, widget: QWidget) -> bool:
        """A key for the counter window itself: not a dialog's, which asked for text."""
        return QApplication.activeModalWidget() is None and widget.window() is self._window

    def _give_back(self) -> None:
        """The box the burst landed in gets back what it held before it."""
        if self._restore is not None:
            box, text, cursor = self._restore
            box.setText(text)
            box.setCursorPosition(cursor)
        self._restore = None

    def _reset(self) -> None:
        self._burst = ""
        self._restore = None
        self._last_key = 0.0
