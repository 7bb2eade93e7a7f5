"""Text boxes hold no more than their rule allows, and say so the moment the limit is hit.

The counter's rules (:mod:`posapp.domain`) refuse an over-long phone, receipt or amount; a
box that took 10,000 pasted characters only to refuse them later would lose the cashier's
time, so each box stops at the rule's own limit and its message line names it.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QLineEdit


def bounded(box: QLineEdit, limit: int, message: QLabel) -> None:
    """``box`` takes at most ``limit`` characters; reaching it says so in ``message``."""
    box.setMaxLength(limit)
    said = QCoreApplication.translate("limits", "At most %1 characters here.").replace(
        "%1", str(limit)
    )

    def edited(text: str) -> None:
        if len(text) >= limit:
            message.setText(said)
        elif message.text() == said:
            message.clear()

    box.textEdited.connect(edited)
