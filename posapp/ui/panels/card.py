"""The member card: who the customer is, what they may be asked, and the manager's keys
that act on them (F8 reveals the phone, Ctrl+G asks HQ for another guide)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from posapp.domain.consent import Purpose
from posapp.domain.phone import format_phone
from posapp.domain.sale import format_fen
from posapp.services.members import MemberCard
from posapp.services.staff import SignedIn
from posapp.ui.panels.till import Till, mark
from posapp.ui.words import channel_name, purpose_name, rung_name, wecom_contact_text

REVEAL_MS = 30_000


class GuidePicker(QDialog):
    """Which guide should look after this customer (tests replace ``ask``)."""

    def __init__(self, guides: list[SignedIn], current: str | None, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Another guide"))
        self.choice = QComboBox()
        for person in guides:
            if person.staff_id != current:
                self.choice.addItem(person.name, person.staff_id)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.choice)
        layout.addWidget(buttons)

    @classmethod
    def ask(cls, guides: list[SignedIn], current: str | None, parent: QWidget | None) -> str | None:
        dialog = cls(guides, current, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.choice.currentData()


class CardPanel(QGroupBox):
    """The card of the member on screen (``till.card``), or of a walk-in."""

    sig_message = Signal(str, bool)  # a line for the cashier; True: an error

    def __init__(self, till: Till, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("memberCard")
        self.till = till
        grid = QGridLayout(self)
        self.name = QLabel(objectName="cardName")
        self.rung = QLabel(objectName="rungBadge")
        self.phone = QLabel(objectName="cardPhone")
        self.code = QLabel(objectName="cardCode")
        self.facts = QLabel(objectName="cardFacts", wordWrap=True)
        self.consents = QLabel(objectName="cardConsents", wordWrap=True)
        self.next_step = QLabel(objectName="cardNext", wordWrap=True)
        self.origin = QLabel(objectName="cardOrigin", wordWrap=True)  # another store's member
        self.wecom = QLabel(objectName="cardWeCom", wordWrap=True)
        grid.addWidget(self.name, 0, 0)
        grid.addWidget(self.rung, 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.phone, 1, 0)
        grid.addWidget(self.code, 1, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.facts, 2, 0, 1, 2)
        grid.addWidget(self.consents, 3, 0, 1, 2)
        grid.addWidget(self.next_step, 4, 0, 1, 2)
        grid.addWidget(self.origin, 5, 0, 1, 2)
        grid.addWidget(self.wecom, 6, 0, 1, 2)
        grid.setRowStretch(7, 1)
        self._hide_phone = QTimer(self, singleShot=True, interval=REVEAL_MS)
        self._hide_phone.timeout.connect(self._mask_phone_again)
        self.clear()

    @property
    def card(self) -> MemberCard | None:
        return self.till.card

    def say(self, text: str, *, error: bool = False) -> None:
        self.sig_message.emit(text, error)

    def show_card(self, card: MemberCard) -> None:
        self.till.card = card
        s = card.summary
        self.setTitle(self.tr("Member"))
        self.name.setText(s.name or self.tr("(no name)"))
        self.rung.setText(rung_name(card.assessment.rung.value))
        mark(self.rung, "rung", card.assessment.rung.value)
        self.phone.setText(s.phone_masked)
        self.code.setText(s.member_code)
        last = f"{s.last_visit_at:%Y-%m-%d}" if s.last_visit_at else "-"
        self.facts.setText(
            self.tr("Visits %1 · spent %2 · last visit %3 · guide %4")
            .replace("%1", str(s.visit_count))
            .replace("%2", format_fen(s.lifetime_spend_fen))
            .replace("%3", last)
            .replace("%4", card.guide_name or "-")
        )
        self.consents.setText(
            "  ".join(
                f"{'✓' if card.consents.get(p) else '✗'} {purpose_name(p.value)}" for p in Purpose
            )
        )
        self.wecom.setText(wecom_contact_text(card.wecom))
        mark(self.wecom, "wecom", "yes" if card.wecom else "no")
        step = card.assessment.next_step
        self.next_step.setText(self.tr("Next step: %1").replace("%1", channel_name(step.channel)))
        since = card.since  # a member who joined at another store of the brand
        self.origin.setText(
            self.tr("Member since %1 at %2")
            .replace("%1", f"{since.enrolled_at:%Y-%m-%d}")
            .replace("%2", since.store_name)
            if since is not None
            else ""
        )

    def show_reference(self, code: str) -> None:
        """A member code of another store, scanned while HQ cannot say whose: the sale keeps
        the code and HQ credits it to the member after sync."""
        self.clear()
        self.till.code_ref = code
        self.name.setText(self.tr("Member of another store — not verified offline"))
        self.code.setText(code)
        self.facts.setText(
            self.tr("The sale is recorded with this code; HQ credits it after sync.")
        )
        self.next_step.clear()

    def clear(self) -> None:
        """A walk-in: nobody's card, the ladder's first step."""
        self.till.card = None
        self.till.code_ref = None
        self.setTitle(self.tr("Customer"))
        self.name.setText(self.tr("Walk-in"))
        self.rung.setText(rung_name("walk_in"))
        mark(self.rung, "rung", "walk_in")
        for label in (self.phone, self.code, self.facts, self.consents, self.origin, self.wecom):
            label.clear()
        self.next_step.setText(self.tr("Next step: %1").replace("%1", self.tr("invite to join")))

    def new_customer(self) -> None:
        self._hide_phone.stop()

    def _mask_phone_again(self) -> None:
        if self.card is not None:
            self.phone.setText(self.card.summary.phone_masked)

    def _member_needed(self) -> MemberCard | None:
        """F8 and Ctrl+G act on the member shown; with none, the cashier hears so."""
        if self.card is None:
            self.say(self.tr("Scan the member first: this is for a member on screen."))
        return self.card

    def reveal_phone(self) -> None:
        card = self._member_needed()
        if card is None or self.till.staff is None:
            return
        member_id, staff_id = card.id, self.till.staff.staff_id

        def shown(phone: str) -> None:
            self.phone.setText(format_phone(phone, self.till.counter.region))
            self._hide_phone.start()
            self.say(self.tr("The full phone shows for 30 seconds and was recorded as revealed."))

        self.till.tasks.run_db(
            lambda: self.till.counter.reveal_phone(member_id=member_id, staff_id=staff_id), shown
        )

    def reassign(self) -> None:
        """A manager asks HQ to give this customer another guide; HQ decides (WeCom limits)."""
        card = self._member_needed()
        if card is None or self.till.staff is None:
            return
        chosen = GuidePicker.ask(self.till.guides, card.guide_id, self.window())
        if chosen is None:
            return
        member_id, manager_id = card.id, self.till.staff.staff_id
        self.till.tasks.run_db(
            lambda: self.till.counter.request_reassignment(
                member_id=member_id, to_guide_id=chosen, manager_id=manager_id
            ),
            lambda _: self.say(
                self.tr("Asked HQ for the new guide; it shows after the next sync.")
            ),
        )
