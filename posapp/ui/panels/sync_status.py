"""The sync state in the status bar, and F9: the cashier sees a sync start and how it ended."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

from posapp.sync.status import SyncStatus
from posapp.ui.panels.till import mark


class SyncPanel(QObject):
    """``state`` (online, offline, not registered) and ``pending`` (what waits, since when)."""

    sig_received = Signal()  # a round brought HQ's changes (a roster, a store's name)
    sig_message = Signal(str, bool)  # a line for the cashier; True: an error

    def __init__(self, sync_now: Callable[[], None] | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sync_now = sync_now
        self._asked = False  # F9 was pressed: say how the round ended
        self.state = QLabel(objectName="syncState")
        self.pending = QLabel(objectName="syncPending")

    def say(self, text: str, *, error: bool = False) -> None:
        self.sig_message.emit(text, error)

    def sync_now(self) -> None:
        """F9: the cashier sees it start, and hears how it ended."""
        if self._sync_now is None:
            self.say(self.tr("This counter is not registered with HQ: there is nothing to sync."))
            return
        self._asked = True
        self._sync_now()
        self.state.setText(self.tr("Syncing…"))
        self.say(self.tr("Syncing with HQ…"))

    def show_status(self, status: SyncStatus) -> None:
        if not status.registered:
            self.state.setText(self.tr("Not registered with HQ"))
        elif status.online:
            self.state.setText(self.tr("Online"))
        else:
            self.state.setText(self.tr("Offline"))
        mark(self.state, "online", status.online)
        parts = [self.tr("%n pending", "", status.pending)]
        age = status.oldest_pending_age_s
        if age is not None:
            parts.append(self.tr("oldest %1 min").replace("%1", str(int(age // 60))))
        if status.last_pull_at is not None:
            local = status.last_pull_at.replace(tzinfo=UTC).astimezone()
            parts.append(self.tr("last sync %1").replace("%1", f"{local:%H:%M}"))
        if status.clock_off:
            parts.append(
                self.tr("check the clock: %1 s off HQ").replace("%1", str(status.clock_skew_s))
            )
        if status.last_error:
            parts.append(status.last_error)
        self.pending.setText(" · ".join(parts))

    def synced(self, result: object) -> None:
        """A round ended (a ``RoundResult``): what it sent and received."""
        if getattr(result, "applied", 0):
            self.sig_received.emit()
        if self._asked:
            self._asked = False
            self.say(
                self.tr("Synced with HQ: %1 sent, %2 received.")
                .replace("%1", str(getattr(result, "pushed", 0)))
                .replace("%2", str(getattr(result, "applied", 0)))
            )

    def show_error(self, reason: str) -> None:
        self.state.setText(self.tr("Offline"))
        mark(self.state, "online", False)
        self.pending.setToolTip(reason)
        if self._asked:
            self._asked = False
            self.say(
                self.tr("HQ could not be reached; nothing is lost and it tries again by itself."),
                error=True,
            )
