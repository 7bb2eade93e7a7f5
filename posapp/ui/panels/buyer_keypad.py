"""F11: the buyer types their own phone, on the customer display or, at a single screen,
in a dialog turned to them. The counter then sees only the masked number and the result:
the member's card, or the enrol dialog with the phone filled in and every consent unticked.

The typed phone goes to the counter's one identify (what the scan box asks), never into a
widget of the counter's own, never to a log.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from posapp.domain.phone import mask_phone
from posapp.resources import notice_line
from posapp.services.hq_lookup import worth_asking
from posapp.services.members import Identification, MemberCard
from posapp.settings import Settings
from posapp.ui.keypad import KeypadDialog
from posapp.ui.panels.enrol import EnrolPanel
from posapp.ui.panels.sale import SalePanel
from posapp.ui.panels.scan import ask_brand
from posapp.ui.panels.till import Till
from posapp.ui.words import explain

DEFAULT_SECONDS = 60.0


class BuyerKeypadPanel(QObject):
    """Opens the keypad where the buyer can reach it and acts on the phone they type."""

    sig_card = Signal(object)  # MemberCard: the phone typed is a member's
    sig_message = Signal(str, bool)  # a line for the cashier; True: an error

    def __init__(
        self,
        till: Till,
        sale: SalePanel,
        enrol: EnrolPanel,
        settings: Callable[[], Settings | None],
        host: QWidget,
    ) -> None:
        super().__init__(host)
        self.till, self.sale, self.enrol = till, sale, enrol
        self._settings = settings
        self._host = host
        self.dialog: KeypadDialog | None = None
        self._round = 0  # a phone typed before a cancel, lock or the next F11 is not looked up
        display = till.display
        if display is not None:
            display.sig_phone_typed.connect(self._typed)
            display.sig_keypad_timed_out.connect(self._timed_out)

    @property
    def on_display(self) -> bool:
        """A customer display on its own screen takes the keypad; else the counter's dialog."""
        return self.till.display is not None and self.till.display.own_screen

    @property
    def open_now(self) -> bool:
        if self.dialog is not None and self.dialog.isVisible():
            return True
        return self.till.display is not None and self.till.display.keypad_open

    def _timeout_ms(self) -> int:
        settings = self._settings()
        seconds = settings.buyer_keypad_seconds if settings is not None else DEFAULT_SECONDS
        return max(1, round(seconds * 1000))

    def open(self) -> None:
        if self.till.staff is None:
            return
        counter, display = self.till.counter, self.till.display
        notice = counter.notice()
        line = notice_line(notice.language, notice.version)
        timeout_ms = self._timeout_ms()
        self._round += 1
        if display is not None and self.on_display:
            display.show_keypad(line, region=counter.region, timeout_ms=timeout_ms)
            self.say(
                self.tr("The customer types their phone on the customer display (Esc cancels).")
            )
            return
        dialog = KeypadDialog(line, region=counter.region, timeout_ms=timeout_ms, parent=self._host)
        dialog.keypad.sig_phone.connect(self._typed)
        dialog.keypad.sig_timed_out.connect(self._timed_out)
        self.dialog = dialog
        dialog.open()
        dialog.keypad.setFocus()

    def cancel(self) -> bool:
        """Esc, a lock or a sign-out: the keypad goes, the display back to idle, and an answer
        still coming is dropped. False: no keypad was open."""
        self._round += 1
        if not self.open_now:
            return False
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.reject()
        if self.till.display is not None:
            self.till.display.show_idle()
        self.say(self.tr("The customer's keypad was cancelled."))
        return True

    def say(self, text: str, *, error: bool = False) -> None:
        self.sig_message.emit(text, error)

    def _timed_out(self) -> None:
        self.say(self.tr("Nobody typed a phone in time: the keypad closed. F11 opens it again."))

    def _typed(self, phone: str) -> None:
        masked = mask_phone(phone, self.till.counter.region)
        self.say(self.tr("The customer typed %1: looking it up…").replace("%1", masked))
        asked = self._round
        self.till.tasks.run_db(
            lambda: self.till.counter.identify(phone),
            lambda found: self._identified(found, phone, masked) if asked == self._round else None,
            lambda error: self.say(explain(error), error=True),
        )

    def _identified(self, found: Identification, phone: str, masked: str) -> None:
        if found.card is not None:
            self._recognised(found.card, masked)
            return
        if self.till.counter.asker is not None and worth_asking(found.query):
            asked = self._round
            self.say(self.tr("Not known at this store: asking HQ…"))
            ask_brand(
                self.till, found, phone,
                on_card=lambda card: self._recognised(card, masked)
                if asked == self._round else None,
                on_nobody=lambda _failed: self._not_a_member(phone, masked)
                if asked == self._round else None,
            )  # fmt: skip
            return
        self._not_a_member(phone, masked)

    def _recognised(self, card: MemberCard, masked: str) -> None:
        self.sig_card.emit(card)
        self.say(self.tr("Member recognised by the phone they typed: %1.").replace("%1", masked))

    def _not_a_member(self, phone: str, masked: str) -> None:
        self.say(
            self.tr("%1 is not a member yet: the customer decides on each consent.").replace(
                "%1", masked
            )
        )
        self.enrol.open(
            phone=phone,
            walk_in_sale=self.sale.walk_in_sale if self.till.card is None else None,
            guide_id=self.sale.serving_guide,
            typed_by_customer=True,
        )
