"""The Qt binding we ship must survive a shop day: PySide6 6.12.0 lost a reference to
``None`` on every void call, so a counter crashed ("none_dealloc") after some hours."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot


def test_void_qt_calls_do_not_leak_references_to_none(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    app = QApplication.instance()
    assert app is not None
    before = sys.getrefcount(None)
    for n in range(20_000):
        label.setText(str(n % 10))
        app.processEvents()
    assert sys.getrefcount(None) - before > -1_000  # 6.12.0 loses 40,000 here
