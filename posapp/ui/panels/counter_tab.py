"""The counter's first tab: scan, card, sale and invite side by side, wired together.

One customer at a time: a new card clears what the last customer left (their invite, a
sale half typed, a walk-in's held sale), a sale brings the member's new rung and their QR,
and Esc returns the counter to nobody served.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from posapp.services.counter import SaleDone
from posapp.services.members import MemberCard
from posapp.services.sales import SaleResult
from posapp.ui.panels.card import CardPanel
from posapp.ui.panels.enrol import EnrolPanel
from posapp.ui.panels.invite import InvitePanel
from posapp.ui.panels.sale import SalePanel
from posapp.ui.panels.scan import ScanPanel
from posapp.ui.panels.till import Till


class CounterTab(QWidget):
    """Lays out the four panels of the counter and connects their signals."""

    def __init__(
        self,
        till: Till,
        scan: ScanPanel,
        card: CardPanel,
        sale: SalePanel,
        invite: InvitePanel,
        enrol: EnrolPanel,
    ) -> None:
        super().__init__(objectName="counterPage")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # the stylesheet's background
        self.till, self.scan, self.card, self.sale = till, scan, card, sale
        self.invite, self.enrol = invite, enrol
        left = QVBoxLayout()
        left.addWidget(scan.candidates, 1)
        left.addWidget(card, 1)
        right = QVBoxLayout()
        right.addWidget(sale)
        right.addWidget(invite, 1)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(scan.query)
        layout.addWidget(scan.message)
        layout.addLayout(columns, 1)
        for panel in (scan, card, sale, invite, enrol):
            panel.sig_message.connect(lambda text, error: self.say(text, error=error))
        scan.sig_card.connect(self.show_card)
        scan.sig_no_member.connect(card.clear)
        scan.sig_reference.connect(self.show_reference)
        sale.sig_sold.connect(self._sold)
        sale.sig_guide_chosen.connect(self._guide_chosen)
        enrol.sig_enrolled.connect(self.show_card)
        enrol.sig_closed.connect(self.back_to_scan)

    def say(self, text: str, *, error: bool = False) -> None:
        """The one line above the card; an error replaces any success still showing."""
        self.scan.show_message(text, error=error)
        if error:
            self.sale.done.clear()

    def back_to_scan(self) -> None:
        """After a dialog: the window takes the keyboard again, the scan box has it."""
        self.window().activateWindow()
        self.scan.query.setFocus()

    def show_card(self, card: MemberCard) -> None:
        """A newly recognised customer: their card, no invite yet, the scan box ready."""
        self._new_customer()
        self.card.show_card(card)
        self.sale.serve_with(card.guide_id)
        self.say(self.tr("Member recognised."))
        self.scan.ready()
        if self.till.display is not None:
            self.till.display.show_member(card.summary.name, card.assessment.rung.value)

    def show_reference(self, code: str) -> None:
        """Another store's member, known offline only by their code (see ``CardPanel``)."""
        self._new_customer()
        self.card.show_reference(code)
        self.say(self.tr("Member of another store: not verified offline."))
        self.scan.ready()

    def _new_customer(self) -> None:
        """Another customer at the counter: nothing of the last one's stays on screen."""
        self.scan.new_customer()
        self.sale.new_customer()
        self.card.new_customer()
        self.invite.show_invites([])

    def clear_customer(self) -> None:
        """Esc, a lock, a sign-out or a sign-in: the counter as if no one had been served."""
        self._new_customer()
        self.sale.clear()
        self.card.clear()
        self.scan.clear()
        if self.till.display is not None:
            self.till.display.show_idle()

    def identify_scan(self, text: str) -> None:
        """A scan that landed outside the scan box (see :mod:`posapp.ui.scanner`)."""
        self.scan.query.setText(text)
        self.back_to_scan()  # a list or picker it closed had the keyboard
        self.scan.identify()

    def _sold(self, done: SaleDone) -> None:
        if self.scan.message.property("error"):
            self.say("")
        if done.card is not None:  # the visit and spend just counted, the rung it led to
            self.card.show_card(done.card)
        self.invite.show_invites(done.invites)
        self.scan.query.setFocus()

    def pos_sale(self, sale: SaleResult, *, on_counter: bool) -> None:
        """A sale from the POS: shown as it arrives; a walk-in's gets its invite at once."""
        self.sale.pos_sale(sale)
        if on_counter:
            self.invite.fetch(sale.member_id, sale.purchase_id, self.sale.serving_guide)

    def _guide_chosen(self) -> None:
        self.back_to_scan()
        self.invite.credit_to(self.sale.serving_guide)  # the QR on screen credits who served

    def next_invite(self) -> None:
        self.invite.next_invite(self.sale.serving_guide)

    def open_enrol(self) -> None:
        walk_in_sale = self.sale.walk_in_sale if self.till.card is None else None
        self.enrol.open(
            phone=self.scan.unknown_phone,
            walk_in_sale=walk_in_sale,
            guide_id=self.sale.serving_guide,
        )
