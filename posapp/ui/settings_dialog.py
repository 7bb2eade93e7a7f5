"""Counter settings (F10, store manager only): language, idle lock, receipt printer.

The window asks the services whether the signed-in person may change settings (the
request is audited either way) before this dialog opens; the dialog edits a copy of the
settings and hands it back, and the window saves it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from posapp.settings import Settings

PRINTER_KINDS = ("none", "network", "usb", "serial")


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(self.tr("Counter settings"))
        self._settings = settings
        self.language = QComboBox(objectName="settingsLanguage")
        for code, name in (
            ("auto", self.tr("As the system")),
            ("zh-CN", "简体中文"),
            ("en", "English"),
        ):
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.ui_language)))
        self.idle = QSpinBox(objectName="settingsIdle")
        self.idle.setRange(1, 120)
        self.idle.setSuffix(self.tr(" min"))
        self.idle.setValue(settings.idle_lock_minutes)
        printer: dict[str, Any] = dict(getattr(settings, "printer", None) or {"kind": "none"})
        self.printer_kind = QComboBox(objectName="settingsPrinterKind")
        names = {
            "none": self.tr("No receipt printer"),
            "network": self.tr("Network (TCP 9100)"),
            "usb": self.tr("USB"),
            "serial": self.tr("Serial port"),
        }
        for kind in PRINTER_KINDS:
            self.printer_kind.addItem(names[kind], kind)
        self.printer_kind.setCurrentIndex(max(0, self.printer_kind.findData(printer.get("kind"))))
        self.printer_address = QLineEdit(objectName="settingsPrinterAddress")
        self.printer_address.setMaxLength(200)
        self.printer_address.setPlaceholderText(
            self.tr("network: host[:port] · usb: vendor:product (hex) · serial: /dev/ttyUSB0")
        )
        self.printer_address.setText(_address_of(printer))
        self.error = QLabel(objectName="formError", wordWrap=True)
        self.restart_note = QLabel(self.tr("A new language shows after the app restarts."))
        form = QFormLayout()
        form.addRow(self.tr("Language"), self.language)
        form.addRow("", self.restart_note)
        form.addRow(self.tr("Lock after idle"), self.idle)
        form.addRow(self.tr("Receipt printer"), self.printer_kind)
        form.addRow(self.tr("Printer address"), self.printer_address)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.result_settings: Settings | None = None

    def _save(self) -> None:
        try:
            printer = _printer_config(self.printer_kind.currentData(), self.printer_address.text())
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        changed = replace(
            self._settings,
            ui_language=self.language.currentData(),
            idle_lock_minutes=self.idle.value(),
            printer=printer,
        )
        self.result_settings = changed
        self.accept()


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


_TYPE_ADDRESS = QT_TRANSLATE_NOOP("SettingsDialog", "Type the printer's address.")
_BAD_PORT = QT_TRANSLATE_NOOP("SettingsDialog", "The port must be a number from 1 to 65535.")
_BAD_USB = QT_TRANSLATE_NOOP(
    "SettingsDialog", "Write the USB ids as vendor:product in hex, e.g. 0416:5011."
)


def _address_of(printer: dict[str, Any]) -> str:
    kind = printer.get("kind")
    if kind == "network":
        return f"{printer.get('host', '')}:{printer.get('port', 9100)}"
    if kind == "usb":
        return f"{printer.get('vendor_id', 0):04x}:{printer.get('product_id', 0):04x}"
    if kind == "serial":
        return str(printer.get("device", ""))
    return ""


def _printer_config(kind: str, address: str) -> dict[str, Any]:
    """The printer settings from the form, or a ValueError saying what to type."""
    text = address.strip()
    if kind == "none":
        return {"kind": "none"}
    if not text:
        raise ValueError(_tr(_TYPE_ADDRESS))
    if kind == "network":
        host, _, port = text.partition(":")
        if not port:
            return {"kind": "network", "host": host, "port": 9100}
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(_tr(_BAD_PORT))
        return {"kind": "network", "host": host, "port": int(port)}
    if kind == "usb":
        vendor, _, product = text.partition(":")
        try:
            return {"kind": "usb", "vendor_id": int(vendor, 16), "product_id": int(product, 16)}
        except ValueError:
            raise ValueError(_tr(_BAD_USB)) from None
    return {"kind": "serial", "device": text}
