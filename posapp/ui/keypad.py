"""The buyer's keypad: big keys for typing one's own phone, by touch or mouse.

It shows on the customer display (the buyer's own screen, where the digits show as typed)
or, on a single screen, in a dialog facing the cashier (where the middle digits stay hidden,
as on every counter screen). It checks the number itself, so a refusal is said on the keypad,
beside what was typed, and nothing typed is lost; a valid number leaves it only as E.164.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from posapp.domain.errors import InvalidInput
from posapp.domain.phone import mobile_lengths, parse_mobile
from posapp.ui.words import explain

MAX_DIGITS = 15  # the longest number E.164 allows
HIDDEN = slice(3, 7)  # the digits a counter screen never shows (138****5678)
ROWS = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"))


class BuyerKeypad(QWidget):
    """Digits, backspace, clear and OK under the brand's privacy line; quiet until started."""

    sig_phone = Signal(str)  # the valid mobile number typed, as E.164
    sig_timed_out = Signal()  # nobody pressed a key for the time it was given

    def __init__(self, *, masked: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("buyerKeypad")
        self._masked = masked
        self._digits = ""
        self._region = "CN"
        self.privacy = QLabel(objectName="keypadPrivacy", wordWrap=True)
        self.prompt = QLabel(
            self.tr("Type your mobile number"), objectName="keypadPrompt",
            alignment=Qt.AlignmentFlag.AlignCenter,
        )  # fmt: skip
        self.entry = QLabel(objectName="keypadEntry", alignment=Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel(
            objectName="keypadMessage", wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter
        )
        self.keys: dict[str, QPushButton] = {}
        grid = QGridLayout()
        for row, digits in enumerate(ROWS):
            for column, digit in enumerate(digits):
                grid.addWidget(self._key(digit, digit), row, column)
        self.clear_key = self._key("clear", self.tr("Clear"))
        self.backspace = self._key("backspace", "⌫")
        self.backspace.setToolTip(self.tr("Delete the last digit"))
        self.ok = self._key("ok", self.tr("OK"))
        self.ok.setObjectName("keypadOk")
        grid.addWidget(self.clear_key, 3, 0)
        grid.addWidget(self._key("0", "0"), 3, 1)
        grid.addWidget(self.backspace, 3, 2)
        grid.addWidget(self.ok, 4, 0, 1, 3)
        layout = QVBoxLayout(self)
        for widget in (self.prompt, self.entry, self.message):
            layout.addWidget(widget)
        layout.addLayout(grid, 1)
        layout.addWidget(self.privacy)
        self._quiet = QTimer(self, singleShot=True)
        self._quiet.timeout.connect(self._timed_out)

    def _key(self, name: str, text: str) -> QPushButton:
        key = QPushButton(text, objectName="keypadKey")
        # Keys never take the keyboard: scans and PINs stay at the counter's own widgets.
        key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        key.setAutoDefault(False)
        key.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        key.setMinimumSize(96, 72)
        key.clicked.connect(lambda: self.press(name))
        self.keys[name] = key
        return key

    @property
    def digits(self) -> str:
        return self._digits

    @property
    def running(self) -> bool:
        return self._quiet.isActive()

    def start(self, privacy_line: str, *, region: str, timeout_ms: int) -> None:
        """A fresh keypad for the next buyer, waiting ``timeout_ms`` for each key."""
        self._region = region
        self.privacy.setText(privacy_line)
        self._set_digits("")
        self._say("")
        self._quiet.setInterval(timeout_ms)
        self._quiet.start()

    def stop(self) -> None:
        """Put away: what was typed goes with it (the next buyer must not see it)."""
        self._quiet.stop()
        self._set_digits("")
        self._say("")

    def press(self, name: str) -> None:
        """One key: a digit, ``backspace``, ``clear`` or ``ok``."""
        if not self.running:
            return
        self._quiet.start()
        if name == "ok":
            self._submit()
        elif name == "clear":
            self._set_digits("")
            self._say("")
        elif name == "backspace":
            self._set_digits(self._digits[:-1])
            self._say("")
        elif len(self._digits) >= MAX_DIGITS:
            self._say(self.tr("That is already %1 digits.").replace("%1", str(MAX_DIGITS)), True)
        else:
            self._set_digits(self._digits + name)
            self._say("")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """A keyboard, where one is plugged in (the dialog at a single screen)."""
        text, key = event.text(), event.key()
        if text.isdigit() and text.isascii():
            self.press(text)
        elif key == Qt.Key.Key_Backspace:
            self.press("backspace")
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.press("ok")
        else:
            super().keyPressEvent(event)

    def _submit(self) -> None:
        try:
            phone = parse_mobile(self._digits, self._region)
        except InvalidInput as exc:
            self._say(self._refusal(exc), True)
            return
        self.stop()
        self.sig_phone.emit(phone)

    def _refusal(self, error: InvalidInput) -> str:
        """Why the number is refused, and what number would pass."""
        if not self._digits:
            return self.tr("Type your mobile number first.")
        text = explain(error)
        lengths = mobile_lengths(self._region)
        if lengths and not error.rule.startswith("mobile_"):
            text += " " + self.tr("A mobile number here has %1 digits.").replace(
                "%1", str(max(lengths))
            )
        return text

    def _timed_out(self) -> None:
        self.stop()
        self.sig_timed_out.emit()

    def _set_digits(self, digits: str) -> None:
        self._digits = digits
        shown = list(digits)
        if self._masked:
            shown[HIDDEN] = "*" * len(shown[HIDDEN])
        # Grouped as a Chinese mobile is read out: 138 1234 5678.
        groups = ["".join(shown[:3])] + ["".join(shown[i : i + 4]) for i in range(3, len(shown), 4)]
        self.entry.setText(" ".join(g for g in groups if g) or "—")

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setProperty("error", error)  # the stylesheet's red (see panels.till.mark)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)


class KeypadDialog(QDialog):
    """A single screen: the keypad in a dialog the cashier turns to the buyer (Esc cancels)."""

    def __init__(self, privacy_line: str, *, region: str, timeout_ms: int, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("keypadDialog")
        self.setWindowTitle(self.tr("The customer types their phone"))
        self.keypad = BuyerKeypad(masked=True, parent=self)
        self.keypad.sig_phone.connect(lambda _: self.accept())
        self.keypad.sig_timed_out.connect(self.reject)
        self.rejected.connect(self.keypad.stop)
        QVBoxLayout(self).addWidget(self.keypad)
        self.keypad.start(privacy_line, region=region, timeout_ms=timeout_ms)
        self.setFocusProxy(self.keypad)
        self.keypad.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
