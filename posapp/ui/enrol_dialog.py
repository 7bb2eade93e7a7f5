"""Quick enrol (F3): phone checked as it is typed, consents unticked, the notice one key away.

A phone the customer typed on their own keypad (F11) comes checked already and stays
theirs: the dialog shows it masked and read-only, and submits the number behind the mask.

The dialog only gathers and checks what was typed; the counter window runs the enrolment
on its database thread and hands back either success (the dialog closes) or the refusal,
shown under the field it concerns while everything typed stays in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from posapp.domain.consent import Notice, Purpose
from posapp.domain.errors import InvalidInput
from posapp.domain.phone import PHONE_MAX_CHARS, mask_phone, parse_mobile
from posapp.domain.sale import format_fen
from posapp.domain.text import NAME_MAX_CHARS, clean_name
from posapp.services.staff import SignedIn
from posapp.ui.limits import bounded
from posapp.ui.words import explain, purpose_name, role_name


@dataclass(frozen=True, slots=True)
class EnrolForm:
    phone: str
    name: str | None
    birthday: date | None
    consents: set[Purpose]
    guide_id: str | None
    guardian_consent: bool = False
    credit_sale: bool = False  # the walk-in sale shown in the dialog becomes the member's


class EnrolDialog(QDialog):
    sig_submit = Signal(object)  # EnrolForm

    def __init__(
        self,
        *,
        notice: Notice,
        notice_text: str,
        guides: list[SignedIn],
        guide_id: str | None,
        region: str,
        phone: str = "",
        typed_by_customer: bool = False,
        walk_in_sale: tuple[str, int] | None = None,
        show_to_customer: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("enrolDialog")
        self.setWindowTitle(self.tr("Enrol a member"))
        self._region = region
        self._notice_text = notice_text
        self._customer_phone = phone if typed_by_customer else ""  # E.164, never on screen
        shown = mask_phone(phone, region) if typed_by_customer else phone
        self.phone = QLineEdit(shown, objectName="enrolPhone")
        self.phone.setPlaceholderText(self.tr("Mobile number"))
        if typed_by_customer:
            self.phone.setReadOnly(True)
            self.phone.setToolTip(self.tr("Typed by the customer on their keypad"))
        self.phone_error = QLabel(objectName="formError", wordWrap=True)
        self.name = QLineEdit(objectName="enrolName")
        self.name.setPlaceholderText(self.tr("Optional"))
        self.name_error = QLabel(objectName="formError", wordWrap=True)
        self.birthday = QLineEdit(objectName="enrolBirthday")
        self.birthday.setMaxLength(10)
        self.birthday.setPlaceholderText(self.tr("YYYY-MM-DD, optional"))
        self.birthday_error = QLabel(objectName="formError", wordWrap=True)
        bounded(self.phone, PHONE_MAX_CHARS, self.phone_error)
        # A name counts characters as the rule does (an emoji is one); the box, counting
        # UTF-16 units, leaves room for that and the live check below says the limit.
        self.name.setMaxLength(NAME_MAX_CHARS * 2)
        self.name.textChanged.connect(self._check_name)
        self.birthday.textChanged.connect(lambda _: self.birthday_error.clear())
        # The guide who served (chosen at the sale, F5) is credited; cashiers are not guides.
        self.guide = QComboBox(objectName="enrolGuide")
        self.guide.addItem(self.tr("no guide"), None)
        for person in guides:
            self.guide.addItem(f"{person.name} · {role_name(person.role)}", person.staff_id)
        self.guide.setCurrentIndex(max(0, self.guide.findData(guide_id)) if guide_id else 0)
        self.consents: dict[Purpose, QCheckBox] = {}
        for purpose in Purpose:
            box = QCheckBox(purpose_name(purpose.value), objectName=f"consent_{purpose.value}")
            box.setChecked(False)  # PIPL: every purpose is the customer's own, separate choice
            self.consents[purpose] = box
        self.guardian = QCheckBox(
            self.tr("A guardian consents (customers under 14)"), objectName="consentGuardian"
        )
        self.consent_error = QLabel(objectName="formError", wordWrap=True)
        self.notice_label = QLabel(
            self.tr("Privacy notice version %1 (%2)")
            .replace("%1", str(notice.version))
            .replace("%2", notice.language)
        )
        self.read_notice = QPushButton(self.tr("Read the notice"), objectName="readNotice")
        self.read_notice.setAutoDefault(False)
        self.read_notice.clicked.connect(self.show_notice)
        # The customer reads what they consent to on their own screen, not over the counter.
        self.notice_to_customer = QPushButton(
            self.tr("Show it on the customer display"), objectName="noticeToCustomer"
        )
        self.notice_to_customer.setAutoDefault(False)
        self.notice_to_customer.setVisible(show_to_customer is not None)
        if show_to_customer is not None:
            self.notice_to_customer.clicked.connect(show_to_customer)
        self.error = QLabel(objectName="formError", wordWrap=True)
        # The walk-in's sale just recorded: said out loud, ticked, and the cashier may untick it.
        self.credit_sale = QCheckBox(objectName="creditSale")
        self.credit_sale.setVisible(walk_in_sale is not None)
        if walk_in_sale is not None:
            receipt, fen = walk_in_sale
            self.credit_sale.setText(
                self.tr("This sale of %1, receipt %2, will be credited to the new member")
                .replace("%1", format_fen(fen))
                .replace("%2", receipt)
            )
            self.credit_sale.setChecked(True)

        form = QFormLayout()
        form.addRow(self.tr("Phone"), self.phone)
        form.addRow("", self.phone_error)
        form.addRow(self.tr("Name"), self.name)
        form.addRow("", self.name_error)
        form.addRow(self.tr("Birthday"), self.birthday)
        form.addRow("", self.birthday_error)
        form.addRow(self.tr("Guide"), self.guide)
        for box in self.consents.values():
            form.addRow("", box)
        form.addRow("", self.guardian)
        form.addRow("", self.consent_error)
        form.addRow(self.notice_label, self.read_notice)
        form.addRow("", self.notice_to_customer)
        form.addRow("", self.credit_sale)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.submit_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.submit_button.setText(self.tr("Enrol"))
        self.submit_button.setDefault(True)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.phone.textChanged.connect(self._check_phone)
        self._busy = False
        if phone and not typed_by_customer:
            self._check_phone(phone)

    def _check_name(self, text: str) -> bool:
        """A refusal about the name goes as soon as the name is fixed."""
        try:
            clean_name(text)
        except InvalidInput as exc:
            self.name_error.setText(explain(exc))
            return False
        self.name_error.clear()
        return True

    def _check_phone(self, text: str) -> bool:
        if self._customer_phone:
            return True  # checked on the keypad, and not the masked text in the box
        if not text.strip():
            self.phone_error.clear()
            return False
        try:
            parse_mobile(text, self._region)
        except InvalidInput as exc:
            self.phone_error.setText(explain(exc))
            return False
        self.phone_error.clear()
        return True

    def _form(self) -> EnrolForm | None:
        ok = True
        if not self.phone.text().strip():
            self.phone_error.setText(self.tr("Enter a phone number."))
            ok = False
        elif not self._check_phone(self.phone.text()):
            ok = False
        if not self._check_name(self.name.text()):
            ok = False
        birthday = None
        text = self.birthday.text().strip()
        self.birthday_error.clear()
        if text:
            try:
                birthday = date.fromisoformat(text)
            except ValueError:
                self.birthday_error.setText(self.tr("Write the birthday as YYYY-MM-DD."))
                ok = False
        consents = {p for p, box in self.consents.items() if box.isChecked()}
        if Purpose.MEMBERSHIP not in consents:
            self.consent_error.setText(
                self.tr("Membership needs the customer's consent: tick it only if they agree.")
            )
            ok = False
        else:
            self.consent_error.clear()
        if not ok:
            return None
        return EnrolForm(
            phone=self._customer_phone or self.phone.text(),
            name=self.name.text() or None,
            birthday=birthday,
            consents=consents,
            guide_id=self.guide.currentData(),
            guardian_consent=self.guardian.isChecked(),
            credit_sale=self.credit_sale.isVisible() and self.credit_sale.isChecked(),
        )

    def _submit(self) -> None:
        if self._busy:  # a second Enter while the first is being written: one member only
            return
        form = self._form()
        if form is None:
            return
        self._busy = True
        self.submit_button.setEnabled(False)
        self.error.clear()
        self.sig_submit.emit(form)

    def refused(self, error: BaseException) -> None:
        """The enrolment was refused: say why beside the field; keep what was typed."""
        self._busy = False
        self.submit_button.setEnabled(True)
        text = explain(error)
        field = getattr(error, "field", "")
        target = {
            "phone": self.phone_error,
            "name": self.name_error,
            "birthday": self.birthday_error,
            "consent": self.consent_error,
        }.get(field, self.error)
        target.setText(text)

    def show_notice(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(self.notice_label.text())
        box.setTextFormat(Qt.TextFormat.MarkdownText)
        box.setText(self._notice_text)
        box.open()
