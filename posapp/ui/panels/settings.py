"""F10: the counter's settings, for a manager (asking is audited, allowed or not)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from posapp.domain.roles import Permission
from posapp.settings import Settings
from posapp.ui.panels.till import Till
from posapp.ui.settings_dialog import SettingsDialog


class SettingsPanel(QObject):
    """Opens the settings over ``host``; saved settings are written, then announced."""

    sig_saved = Signal(object)  # Settings, already written to settings.json
    sig_closed = Signal()  # the dialog is gone: the scan box takes the keyboard again
    sig_message = Signal(str, bool)  # a line for the cashier; True: an error

    def __init__(self, till: Till, settings: Settings | None, host: QWidget) -> None:
        super().__init__(host)
        self.till = till
        self.settings = settings
        self._host = host
        self.dialog: SettingsDialog | None = None

    def open(self) -> None:
        settings, staff = self.settings, self.till.staff
        if staff is None or settings is None:
            return

        def allowed(_: None) -> None:
            dialog = SettingsDialog(settings, self._host)
            self.dialog = dialog

            def saved() -> None:
                if dialog.result_settings is None:
                    return
                self.settings = dialog.result_settings
                self.settings.save()
                self.sig_saved.emit(self.settings)
                self.sig_message.emit(self.tr("Settings saved."), False)

            dialog.accepted.connect(saved)
            dialog.finished.connect(lambda _: self.sig_closed.emit())
            dialog.open()

        self.till.tasks.run_db(
            lambda: self.till.counter.allow(
                staff_id=staff.staff_id, permission=Permission.CHANGE_SETTINGS
            ),
            allowed,
        )
