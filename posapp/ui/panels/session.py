"""Who works the counter: the roster from HQ, signing in with a PIN, signing out past the
unsynced-work guard (a manager may confirm it)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from posapp.domain.roles import Permission, Role
from posapp.services.counter import StoreInfo
from posapp.services.staff import SignedIn, UnsyncedWork
from posapp.ui.panels.till import Till
from posapp.ui.sign_in import SignInPage
from posapp.ui.words import explain


class ManagerConfirm(QDialog):
    """A manager confirms at the counter with their own PIN (tests replace ``ask``)."""

    def __init__(self, staff: list[SignedIn], reason: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Manager confirmation"))
        self.page = SignInPage(self)
        self.page.title.setText(reason)
        self.page.set_roster([p for p in staff if p.role == Role.MANAGER])
        self.answer: tuple[str, str] | None = None
        self.page.sig_sign_in.connect(self._answered)
        QVBoxLayout(self).addWidget(self.page)

    def _answered(self, staff_id: str, pin: str) -> None:
        self.answer = (staff_id, pin)
        self.accept()

    @classmethod
    def ask(
        cls, staff: list[SignedIn], reason: str, parent: QWidget | None
    ) -> tuple[str, str] | None:
        dialog = cls(staff, reason, parent)
        dialog.page.pin.setFocus()
        return dialog.answer if dialog.exec() == QDialog.DialogCode.Accepted else None


class StaffSession(QObject):
    """Drives the sign-in page; the window switches pages on ``sig_signed_in/out``."""

    sig_roster = Signal(object)  # StoreInfo: ``till.roster`` (and the store's name) is new
    sig_signed_in = Signal(object)  # SignedIn
    sig_signed_out = Signal()
    sig_message = Signal(str, bool)  # a line for the cashier; True: an error

    def __init__(self, till: Till, page: SignInPage, host: QWidget) -> None:
        super().__init__(host)
        self.till = till
        self.page = page
        self._host = host
        page.sig_sign_in.connect(self._sign_in)

    def refresh_roster(self, *, preselect: str | None = None) -> None:
        counter = self.till.counter

        def done(result: tuple[list[SignedIn], StoreInfo]) -> None:
            roster, store = result
            self.till.roster = roster
            if self.till.display is not None:
                self.till.display.set_store_name(store.name)
            self.sig_roster.emit(store)
            self.page.set_roster(roster, preselect=preselect)

        self.till.tasks.run_db(lambda: (counter.roster(), counter.store()), done)

    def _sign_in(self, staff_id: str, pin: str) -> None:
        self.till.tasks.run_db(
            lambda: self.till.counter.sign_in(staff_id=staff_id, pin=pin),
            self.sig_signed_in.emit,
            lambda error: self.page.show_error(explain(error)),
        )

    def sign_out(self) -> None:
        counter = self.till.counter

        def refused(error: BaseException) -> None:
            if not isinstance(error, UnsyncedWork):
                self.sig_message.emit(explain(error), True)
                return
            answer = ManagerConfirm.ask(self.till.roster, explain(error), self._host)
            if answer is None:
                self.sig_message.emit(explain(error), True)
                return
            manager, pin = answer

            def confirmed() -> int:
                counter.check_manager(
                    staff_id=manager, pin=pin, permission=Permission.OVERRIDE_SYNC_GUARD
                )
                return counter.guard_unsynced(action="sign_out", manager_id=manager)

            self.till.tasks.run_db(confirmed, lambda _: self.sig_signed_out.emit())

        self.till.tasks.run_db(
            lambda: counter.guard_unsynced(action="sign_out"),
            lambda _: self.sig_signed_out.emit(),
            refused,
        )
