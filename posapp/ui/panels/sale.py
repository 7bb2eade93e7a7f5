"""The sale: receipt, amount, the guide who served, and the walk-in's sale held for them."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from posapp.domain.sale import AMOUNT_MAX_CHARS, RECEIPT_MAX_CHARS, format_fen
from posapp.services.counter import SaleDone
from posapp.services.sales import SaleResult
from posapp.ui.limits import bounded
from posapp.ui.panels.till import Till
from posapp.ui.words import explain

# A walk-in's sale waits this long for them to join at the counter (F3) and become theirs.
WALK_IN_HOLD_MS = 3 * 60_000


class SalePanel(QGroupBox):
    """Records the sale for the customer on screen (``till.card``) or a walk-in."""

    sig_sold = Signal(object)  # SaleDone: recorded; its card and invites are the window's
    sig_guide_chosen = Signal()  # F5's list closed on a guide
    sig_message = Signal(str, bool)  # a line for the cashier; True: an error

    def __init__(self, till: Till, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("saleBox")
        self.setTitle(self.tr("Sale"))
        self.till = till
        self.last_sale: SaleResult | None = None
        # The walk-in sale the next enrolment may take, until the customer changes.
        self.walk_in_sale: SaleResult | None = None
        self._chosen_guide: str | None = None  # the guide last chosen at this counter
        self._zero_asked: tuple[str, str] | None = None  # a ¥0.00 sale awaiting confirmation
        self.receipt = QLineEdit(objectName="receiptInput")
        self.receipt.setPlaceholderText(self.tr("Receipt number"))
        self.receipt.returnPressed.connect(lambda: self.amount.setFocus())
        self.receipt.textEdited.connect(self._another_sale)
        self.amount = QLineEdit(objectName="amountInput")
        self.amount.setPlaceholderText(self.tr("Amount, e.g. 128.00"))
        self.amount.returnPressed.connect(lambda: self.record())
        self.guide_choice = QComboBox(objectName="servingGuide")
        self.guide_choice.activated.connect(self._guide_chosen)
        self.record_button = QPushButton(self.tr("Record sale (F4)"), objectName="recordSale")
        self.record_button.setAutoDefault(False)
        self.record_button.setToolTip(f"{self.tr('Record the sale')} (F4)")
        self.record_button.clicked.connect(self.confirm)
        self.error = QLabel(objectName="formError", wordWrap=True)
        self.done = QLabel(objectName="saleDone", wordWrap=True)
        bounded(self.receipt, RECEIPT_MAX_CHARS, self.error)
        bounded(self.amount, AMOUNT_MAX_CHARS, self.error)
        form = QFormLayout(self)
        form.addRow(self.tr("Receipt"), self.receipt)
        form.addRow(self.tr("Amount"), self.amount)
        form.addRow(self.tr("Served by (F5)"), self.guide_choice)
        form.addRow("", self.record_button)
        form.addRow("", self.error)
        form.addRow("", self.done)
        self._walk_in_hold = QTimer(self, singleShot=True, interval=WALK_IN_HOLD_MS)
        self._walk_in_hold.timeout.connect(self._end_walk_in_sale)

    # ---- the guide who served -----------------------------------------------------

    @property
    def serving_guide(self) -> str | None:
        return self.guide_choice.currentData()

    def set_guides(self) -> None:
        """The roster's guides (again, after a sync): whoever was serving stays chosen."""
        current = self.serving_guide
        self.guide_choice.clear()
        self.guide_choice.addItem(self.tr("no guide"), None)
        for person in self.till.guides:
            self.guide_choice.addItem(person.name, person.staff_id)
        self.serve_with(current)

    def serve_with(self, member_guide: str | None) -> None:
        """The member's own guide when they have one here; else the guide last chosen."""
        index = self.guide_choice.findData(member_guide) if member_guide else -1
        if index < 0:
            index = max(0, self.guide_choice.findData(self._chosen_guide))
        self.guide_choice.setCurrentIndex(index)

    def _guide_chosen(self, index: int) -> None:
        self._chosen_guide = self.guide_choice.itemData(index)
        name = self.guide_choice.itemText(index)
        self.sig_message.emit(self.tr("Served by %1.").replace("%1", name), False)
        self.sig_guide_chosen.emit()

    def choose_guide(self) -> None:
        """F5: the list of guides opens; arrows and Enter choose who served."""
        self.guide_choice.setFocus()
        self.guide_choice.showPopup()

    # ---- the customer changes --------------------------------------------------------

    def new_customer(self) -> None:
        self._zero_asked = None
        self._end_walk_in_sale()
        self.done.clear()
        self.error.clear()

    def clear(self) -> None:
        """A sale half typed for the last customer is not the next one's."""
        self.receipt.clear()
        self.amount.clear()
        self.serve_with(None)

    def _hold_walk_in_sale(self, sale: SaleResult) -> None:
        """A walk-in's new sale waits for them to join; any other sale ends the wait."""
        self._end_walk_in_sale()
        walk_in = sale.member_id is None and sale.member_code_ref is None
        if walk_in and sale.created and self.till.card is None:
            self.walk_in_sale = sale
            self._walk_in_hold.start()

    def _end_walk_in_sale(self) -> None:
        self.walk_in_sale = None
        self._walk_in_hold.stop()

    def _another_sale(self, text: str) -> None:
        """Typing a new receipt starts another sale: the last walk-in's is no longer waiting."""
        if text:
            self._end_walk_in_sale()

    # ---- recording -------------------------------------------------------------------

    def focus(self) -> None:
        self.receipt.setFocus()
        self.receipt.selectAll()

    def confirm(self) -> None:
        """F4 (and the button): record; on a ¥0.00 sale just questioned, record the gift."""
        self.record(confirming=True)

    def record(self, *, confirming: bool = False) -> None:
        if self.till.staff is None:
            return
        receipt, amount = self.receipt.text(), self.amount.text()
        member_id = self.till.card.id if self.till.card else None
        code_ref = self.till.code_ref if member_id is None else None
        staff_id = self.till.staff.staff_id
        guide_id = self.serving_guide
        # A second F4 on the same ¥0.00 sale the counter just questioned: a free gift.
        gift = confirming and self._zero_asked == (receipt, amount)
        self._zero_asked = None
        self.error.clear()

        def refused(error: BaseException) -> None:
            self.done.clear()
            self.error.setText(explain(error))
            if getattr(error, "rule", "") == "zero":
                self._zero_asked = (receipt, amount)
            target = self.amount if getattr(error, "field", "") == "amount" else self.receipt
            target.setFocus()

        self.till.tasks.run_db(
            lambda: self.till.counter.sell(
                receipt_no=receipt, amount=amount, staff_id=staff_id, member_id=member_id,
                guide_id=guide_id, gift=gift, member_code_ref=code_ref,
            ),
            self._sold,
            refused,
        )  # fmt: skip

    def _sold(self, done: SaleDone) -> None:
        sale = done.sale
        self.last_sale = sale
        card = self.till.card
        who = card.summary.name if card and card.summary.name else None
        if not sale.created:
            text = self.tr("Sale %1 of %2 was already recorded")
        elif sale.member_code_ref is not None:
            text = self.tr("Sale %1 of %2 recorded for a member of another store (HQ credits it)")
        elif sale.member_id is None:
            text = self.tr("Sale %1 of %2 recorded for a walk-in")
        else:
            text = self.tr("Sale %1 of %2 recorded for %3")
        text = (
            text.replace("%1", sale.receipt_no)
            .replace("%2", format_fen(sale.amount_fen))
            .replace("%3", who or self.tr("the member"))
        )
        if sale.created and sale.amount_fen == 0:
            text += " " + self.tr("(a free gift)")
        self.done.setText(text)
        self.error.clear()
        self._hold_walk_in_sale(sale)
        self.receipt.clear()
        self.amount.clear()
        self.sig_sold.emit(done)

    def pos_sale(self, sale: SaleResult) -> None:
        """A sale from the POS: shown as it arrives."""
        self.last_sale = sale
        self._hold_walk_in_sale(sale)
        self.done.setText(
            self.tr("From the POS: sale %1 of %2")
            .replace("%1", sale.receipt_no)
            .replace("%2", format_fen(sale.amount_fen))
        )
