"""The customer display (客显屏): the second screen facing the buyer.

It only ever receives what a customer may see: a masked name, the rung, the invite URL.
Full phone numbers and staff-only facts are never passed to it, so it cannot show them.
The one number it shows is the one the buyer types on its keypad (F11 at the counter).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from posapp.domain.ladder import Channel
from posapp.domain.text import mask_name
from posapp.ui.images import qr_pixmap
from posapp.ui.keypad import BuyerKeypad
from posapp.ui.words import call_to_action, rung_name

IDLE_AFTER_MS = 90_000
QR_PX = 420


class CustomerDisplay(QWidget):
    sig_phone_typed = Signal(str)  # E.164: the buyer typed their phone on the keypad
    sig_keypad_timed_out = Signal()  # the keypad waited in vain and the idle screen is back

    def __init__(self, store_name: str, *, idle_after_ms: int = IDLE_AFTER_MS) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.own_screen = False  # on a second monitor facing the buyer (set by place())
        self.setObjectName("customerDisplay")
        # It faces the buyer and never takes the keyboard: scans and PINs stay at the counter.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setWindowFlag(Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setWindowTitle(self.tr("Welcome"))
        self._store_name = store_name
        self.welcome = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.welcome.setObjectName("displayWelcome")
        self.greeting = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.greeting.setObjectName("displayGreeting")
        self.qr = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.call = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.call.setObjectName("displayCall")
        self.call.setWordWrap(True)
        # The privacy notice, for the customer to read before they consent (the cashier
        # shows it from the enrol dialog); hidden at every other moment.
        self.notice = QTextBrowser(objectName="displayNotice")
        self.notice.hide()
        self.keypad = BuyerKeypad()
        self.keypad.sig_phone.connect(self._phone_typed)
        self.keypad.sig_timed_out.connect(self._keypad_timed_out)
        self.keypad.hide()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (self.welcome, self.greeting, self.qr, self.call):
            layout.addWidget(widget)
        layout.addWidget(self.notice, 4)
        layout.addWidget(self.keypad, 6)
        layout.addStretch(1)
        self._idle = QTimer(self, singleShot=True, interval=idle_after_ms)
        self._idle.timeout.connect(self.show_idle)
        self.show_idle()

    def place(self) -> None:
        """Full screen on a second monitor when there is one; otherwise a movable window."""
        screens = QGuiApplication.screens()
        self.own_screen = len(screens) > 1
        if self.own_screen:
            self.setGeometry(screens[1].geometry())
            self.showFullScreen()
        else:
            self.resize(640, 760)
            self.show()

    def set_store_name(self, name: str) -> None:
        """HQ's name for the store, once a sync has brought it."""
        self._store_name = name
        if not self.greeting.text() and self.qr.pixmap().isNull() and not self.keypad_open:
            self.show_idle()

    def show_idle(self) -> None:
        self.notice.hide()
        self.keypad.stop()
        self.keypad.hide()
        self.welcome.setText(
            self.tr("Welcome to %1").replace("%1", self._store_name)
            if self._store_name
            else self.tr("Welcome")
        )
        self.greeting.clear()
        self.qr.clear()
        self.call.clear()

    def show_notice(self, markdown: str) -> None:
        """The privacy notice the customer is asked to consent to, on their own screen."""
        self.notice.setMarkdown(markdown)
        self.notice.show()
        self._idle.start()

    def hide_notice(self) -> None:
        self.notice.hide()

    def show_keypad(self, privacy_line: str, *, region: str, timeout_ms: int) -> None:
        """The buyer types their own phone; idle again after ``timeout_ms`` without a key."""
        self.show_idle()  # welcomed to the store, nothing of the last customer left
        self._idle.stop()
        self.keypad.start(privacy_line, region=region, timeout_ms=timeout_ms)
        self.keypad.show()

    @property
    def keypad_open(self) -> bool:
        return self.keypad.isVisibleTo(self)

    def _phone_typed(self, phone: str) -> None:
        self.show_idle()  # the number leaves the screen with the buyer's OK
        self.welcome.setText(self.tr("Thank you, one moment"))
        self._idle.start()
        self.sig_phone_typed.emit(phone)

    def _keypad_timed_out(self) -> None:
        self.show_idle()
        self.sig_keypad_timed_out.emit()

    def show_member(self, name: str | None, rung: str) -> None:
        """A recognised member: greeted, and no join QR (they have joined)."""
        self.welcome.setText(self.tr("Welcome back"))
        self.greeting.setText(_greeting(name, rung))
        self.clear_invite()
        self._idle.start()

    def show_welcome(self, name: str | None) -> None:
        """A walk-in who just joined at the counter: welcomed as a new member."""
        self.welcome.setText(self.tr("Welcome, you are now a member"))
        self.greeting.setText(mask_name(name) or self.tr("Thank you for joining"))
        self.clear_invite()
        self._idle.start()

    def clear_invite(self) -> None:
        self.qr.clear()
        self.call.clear()

    def show_invite(self, url: str, channel: Channel, *, referral: bool = False) -> None:
        self.qr.setPixmap(qr_pixmap(url, QR_PX))
        self.call.setText(call_to_action(channel, referral=referral))
        self._idle.start()

    def visible_text(self) -> list[str]:
        """Everything written on the display (what a test checks for personal data)."""
        shown = [label.text() for label in self.findChildren(QLabel) if label.isVisibleTo(self)]
        if self.notice.isVisibleTo(self):
            shown.append(self.notice.toPlainText())
        if self.keypad_open:
            shown += [key.text() for key in self.keypad.keys.values()]
        return [*shown, self.windowTitle()]


def _greeting(name: str | None, rung: str) -> str:
    """``王* · 会员``; with no name, ``尊敬的会员`` (never "Member · 会员")."""
    if name:
        return f"{mask_name(name)} · {rung_name(rung)}"
    return QCoreApplication.translate("CustomerDisplay", "Dear %1").replace("%1", rung_name(rung))
