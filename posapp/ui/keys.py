"""The counter's keyboard: each action's key, the F1 overlay listing them, the idle watch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QStyle, QTextBrowser, QVBoxLayout, QWidget

# (what it does, its key, the action, an icon or None)
Entry = tuple[str, str, Callable[[], None], QStyle.StandardPixmap | None]


@dataclass(frozen=True, slots=True)
class Key:
    """One action of the keyboard map (shown in tooltips and the F1 overlay)."""

    name: str
    shortcut: str


def add_keys(window: QWidget, entries: Sequence[Entry]) -> list[Key]:
    """Each entry as an action of ``window``, its key working wherever the focus is."""
    keys = []
    for name, shortcut, slot, icon in entries:
        action = QAction(name, window)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{name} ({shortcut})")
        if icon is not None:
            action.setIcon(window.style().standardIcon(icon))
        action.triggered.connect(slot)
        window.addAction(action)
        keys.append(Key(name, shortcut))
    return keys


def key_help(parent: QWidget, keys: Sequence[Key]) -> QDialog:
    """F1: every key and what it does, over the window (opened, not modal)."""
    dialog = QDialog(parent)
    dialog.setObjectName("helpOverlay")
    dialog.setWindowTitle(QCoreApplication.translate("keys", "Keyboard"))
    text = QTextBrowser()
    rows = "".join(f"<tr><td><b>{k.shortcut}</b></td><td>{k.name}</td></tr>" for k in keys)
    text.setHtml(f"<table cellpadding='6'>{rows}</table>")
    QVBoxLayout(dialog).addWidget(text)
    dialog.resize(460, 480)
    dialog.open()
    return dialog


class IdleFilter(QObject):
    """Any key or click restarts the idle timer."""

    def __init__(self, timer: QTimer, parent: QObject) -> None:
        super().__init__(parent)  # deleted with the window, which removes it from the app
        self._timer = timer

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress):
            self._timer.start()
        return False
