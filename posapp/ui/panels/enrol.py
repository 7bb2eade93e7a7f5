"""Quick enrol (F3): the dialog opens for the customer at the counter; the enrolment runs on
the database thread, and may take the walk-in's sale that is waiting for them."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from posapp.domain.sale import format_fen
from posapp.resources import notice_text
from posapp.services.counter import EnrolDone
from posapp.services.sales import SaleResult
from posapp.ui.enrol_dialog import EnrolDialog, EnrolForm
from posapp.ui.panels.till import Till


class EnrolPanel(QObject):
    """Opens the enrol dialog over ``host``; ``dialog`` is the one open (or last open)."""

    sig_enrolled = Signal(object)  # MemberCard: the new (or existing) member
    sig_closed = Signal()  # the dialog is gone: the scan box takes the keyboard again
    sig_message = Signal(str, bool)  # a line for the cashier; True: an error

    def __init__(self, till: Till, host: QWidget) -> None:
        super().__init__(host)
        self.till = till
        self._host = host
        self.dialog: EnrolDialog | None = None

    def open(
        self,
        *,
        phone: str,
        walk_in_sale: SaleResult | None,
        guide_id: str | None,
        typed_by_customer: bool = False,
    ) -> None:
        staff, counter, display = self.till.staff, self.till.counter, self.till.display
        if staff is None:
            return
        notice = counter.notice()
        text = notice_text(notice.language, notice.version)
        dialog = EnrolDialog(
            notice=notice,
            notice_text=text,
            show_to_customer=(lambda: display.show_notice(text)) if display is not None else None,
            guides=self.till.guides,
            guide_id=guide_id,
            region=counter.region,
            phone=phone,
            typed_by_customer=typed_by_customer,
            walk_in_sale=(
                (walk_in_sale.receipt_no, walk_in_sale.amount_fen) if walk_in_sale else None
            ),
            parent=self._host,
        )
        self.dialog = dialog

        def submit(form: EnrolForm) -> None:
            credited = walk_in_sale if form.credit_sale else None
            self.till.tasks.run_db(
                lambda: counter.enrol(
                    phone=form.phone, consents=form.consents, staff_id=staff.staff_id,
                    name=form.name, birthday=form.birthday,
                    purchase_id=credited.purchase_id if credited else None,
                    guide_id=form.guide_id, guardian_consent=form.guardian_consent,
                ),
                lambda done: self._enrolled(dialog, done, credited),
                dialog.refused,
            )  # fmt: skip

        dialog.sig_submit.connect(submit)
        dialog.finished.connect(lambda _: self.sig_closed.emit())
        if display is not None:
            dialog.finished.connect(lambda _: display.hide_notice())
        dialog.open()
        (dialog.name if typed_by_customer else dialog.phone).setFocus()

    def _enrolled(self, dialog: EnrolDialog, done: EnrolDone, credited: SaleResult | None) -> None:
        dialog.accept()
        self.sig_enrolled.emit(done.card)
        text = (
            self.tr("Enrolled: member code %1").replace("%1", done.enrolment.member_code)
            if done.enrolment.created
            else self.tr("Already a member.")
        )
        if credited is not None:
            text += " " + self.tr("Sale %1 of %2 is now theirs.").replace(
                "%1", credited.receipt_no
            ).replace("%2", format_fen(credited.amount_fen))
        self.sig_message.emit(text, False)
        if self.till.display is not None and done.enrolment.created:
            self.till.display.show_welcome(done.card.summary.name)
