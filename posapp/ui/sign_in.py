"""The sign-in (and lock) screen: pick yourself with the arrow keys, type your PIN, Enter."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

from posapp.services.staff import SignedIn
from posapp.ui.models import StaffModel


class _PinEdit(QLineEdit):
    """Up/Down move the staff list while the PIN field keeps the focus."""

    def __init__(self, staff: QListView) -> None:
        super().__init__()
        self._staff = staff

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            model = self._staff.model()
            row = self._staff.currentIndex().row()
            step = -1 if event.key() == Qt.Key.Key_Up else 1
            row = max(0, min(model.rowCount() - 1, row + step))
            self._staff.setCurrentIndex(model.index(row, 0))
            return
        super().keyPressEvent(event)


class SignInPage(QWidget):
    sig_sign_in = Signal(str, str)  # staff_id, pin

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signInPage")
        self.title = QLabel(self.tr("Sign in"), objectName="pageTitle")
        self.staff_model = StaffModel(self)
        self.staff = QListView(objectName="staffList")
        self.staff.setModel(self.staff_model)
        self.pin = _PinEdit(self.staff)
        self.pin.setObjectName("pinInput")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.setPlaceholderText(self.tr("PIN, then Enter"))
        self.pin.returnPressed.connect(self._submit)
        self.message = QLabel(objectName="formError", wordWrap=True)
        self.hint = QLabel(objectName="hint", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        for widget in (self.title, self.staff, self.pin, self.message, self.hint):
            widget.setMaximumWidth(480)
            layout.addWidget(widget)
        layout.addStretch(1)

    def set_roster(self, staff: list[SignedIn], *, preselect: str | None = None) -> None:
        """The roster (again, after a sync): whoever was being chosen stays chosen."""
        current = self.staff.currentIndex()
        if preselect is None and current.isValid():
            preselect = self.staff_model.person(current.row()).staff_id
        self.staff_model.set_staff(staff)
        row = self.staff_model.row_of(preselect) if preselect else 0
        if staff:
            self.staff.setCurrentIndex(self.staff_model.index(max(row, 0), 0))
            self.message.clear()
        else:
            self.message.setText(
                self.tr(
                    "No staff can sign in yet: register this counter with HQ"
                    " (posapp register) and let it sync."
                )
            )

    def reset(self, *, message: str = "") -> None:
        self.pin.clear()
        self.message.setText(message)
        self.pin.setFocus()

    def show_error(self, text: str) -> None:
        self.pin.clear()
        self.message.setText(text)
        self.pin.setFocus()

    def _submit(self) -> None:
        index = self.staff.currentIndex()
        if not index.isValid():
            return
        self.sig_sign_in.emit(self.staff_model.person(index.row()).staff_id, self.pin.text())
