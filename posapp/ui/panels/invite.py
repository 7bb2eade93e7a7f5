"""The invite: the ladder's QR for this customer, on screen, on the display, on paper (F7)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from posapp.services.invites import IssuedInvite
from posapp.ui.images import qr_pixmap
from posapp.ui.panels.till import Till
from posapp.ui.words import call_to_action, explain

QR_PX = 260
# Prints one invite slip; raises with a plain message when the printer cannot.
PrintInvite = Callable[[IssuedInvite], None]


class InvitePanel(QGroupBox):
    """The QRs offered to the customer on screen; F6 switches between them."""

    sig_message = Signal(str, bool)  # a line for the cashier; True: an error

    def __init__(
        self, till: Till, print_invite: PrintInvite | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inviteBox")
        self.setTitle(self.tr("Invite"))
        self.till = till
        self._print_invite = print_invite
        self.invites: list[IssuedInvite] = []
        self.invite_index = 0
        self.qr = QLabel(objectName="inviteQr", alignment=Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumSize(QR_PX, QR_PX)
        self.call = QLabel(objectName="inviteCall", alignment=Qt.AlignmentFlag.AlignCenter)
        self.code = QLabel(objectName="inviteCode", alignment=Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.print_message = QLabel(objectName="printMessage", wordWrap=True)
        box = QVBoxLayout(self)
        for widget in (self.qr, self.call, self.code, self.print_message):
            box.addWidget(widget)

    @property
    def invite(self) -> IssuedInvite | None:
        return self.invites[self.invite_index] if self.invites else None

    def say(self, text: str, *, error: bool = False) -> None:
        self.sig_message.emit(text, error)

    def show_invites(self, invites: list[IssuedInvite]) -> None:
        self.invites, self.invite_index = list(invites), 0
        self._show_invite()

    def _show_invite(self) -> None:
        invite, display = self.invite, self.till.display
        self.print_message.clear()
        if invite is None:
            self.qr.clear()
            self.call.clear()
            self.code.clear()
            if display is not None:
                display.clear_invite()
            return
        self.qr.setPixmap(qr_pixmap(invite.url, QR_PX))
        call = call_to_action(invite.channel, referral=invite.referral)
        more = (
            f"  ({self.invite_index + 1}/{len(self.invites)}, F6)" if len(self.invites) > 1 else ""
        )
        self.call.setText(call + more)
        self.code.setText(invite.token)
        if display is not None:
            display.show_invite(invite.url, invite.channel, referral=invite.referral)

    def fetch(self, member_id: str | None, purchase_id: str | None, guide_id: str | None) -> None:
        """The ladder's QRs for this customer, credited to the guide who served, shown."""
        self.till.tasks.run_db(
            lambda: self.till.counter.invites(
                member_id=member_id, staff_id=guide_id, purchase_id=purchase_id
            ),
            self.show_invites,
        )

    def next_invite(self, guide_id: str | None) -> None:
        """F6: the next QR on screen, or this customer's first."""
        if self.till.staff is None:
            return
        if len(self.invites) > 1:
            self.invite_index = (self.invite_index + 1) % len(self.invites)
            self._show_invite()
            return
        if self.invites:
            self.say(self.tr("This is the only QR for this customer."))
            return
        card = self.till.card
        self.fetch(card.id if card else None, None, guide_id)

    def credit_to(self, guide_id: str | None) -> None:
        """Another guide served: the QR on screen is issued again, crediting them."""
        if self.invites and self.till.staff is not None:
            first = self.invites[0]
            self.fetch(first.member_id, first.purchase_id, guide_id)

    def print_with(self, printer: PrintInvite | None) -> None:
        self._print_invite = printer

    def print_invite(self) -> None:
        invite = self.invite
        if invite is None:
            self.say(self.tr("No invite QR to print yet: F6 shows one."))
            return
        if self._print_invite is None:
            self.print_message.setText(self.tr("No receipt printer is set up (settings)."))
            return
        self.print_message.setText(self.tr("Printing…"))
        printer = self._print_invite

        def refused(error: BaseException) -> None:
            self.print_message.setText(
                self.tr("Not printed: %1 The invite stays on screen; F7 tries again.").replace(
                    "%1", explain(error)
                )
            )

        self.till.tasks.run_io(
            lambda: printer(invite), lambda _: self.print_message.setText(self.tr("Printed.")),
            refused,
        )  # fmt: skip
