"""Sync in the background for the counter window, reporting through Qt signals.

Following Anki's and Picard's pattern: network work on its own thread, the GUI thread
only receives signals and draws. ``sync_now()`` and the periodic timer queue a round on
the worker thread; a round never runs twice at once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from posapp.sync.client import HqError
from posapp.sync.engine import RoundResult, SyncEngine
from posapp.sync.status import SyncStatus


class _Runner(QObject):
    sig_status = Signal(object)
    sig_synced = Signal(object)
    sig_failed = Signal(str)

    def __init__(
        self, make_engine: Callable[[], SyncEngine], status: Callable[[], SyncStatus]
    ) -> None:
        super().__init__()
        self._make_engine = make_engine
        self._status = status
        self._engine: SyncEngine | None = None

    @Slot()
    def run_round(self) -> None:
        try:
            if self._engine is None:
                self._engine = self._make_engine()
            result: RoundResult = self._engine.run_once()
            self.sig_synced.emit(result)
        except HqError as exc:
            self.sig_failed.emit(str(exc))
        except Exception as exc:
            self.sig_failed.emit(f"Sync stopped: {exc}")
        self.sig_status.emit(self._status())


class SyncWorker(QObject):
    """Owns the worker thread; connect to ``sig_status``, ``sig_synced`` and ``sig_failed``."""

    sig_status = Signal(object)  # SyncStatus
    sig_synced = Signal(object)  # RoundResult
    sig_failed = Signal(str)  # the reason, in plain words
    _sig_round = Signal()

    def __init__(
        self,
        make_engine: Callable[[], SyncEngine],
        status: Callable[[], SyncStatus],
        *,
        interval_ms: int = 30_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("posapp-sync")
        self._runner = _Runner(make_engine, status)
        self._runner.moveToThread(self._thread)
        self._runner.sig_status.connect(self.sig_status)
        self._runner.sig_synced.connect(self.sig_synced)
        self._runner.sig_failed.connect(self.sig_failed)
        self._sig_round.connect(self._runner.run_round)  # queued: runs on the worker thread
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.sync_now)

    def start(self) -> None:
        self._thread.start()
        self._timer.start()
        self.sync_now()

    @Slot()
    def sync_now(self) -> None:
        self._sig_round.emit()

    def stop(self) -> None:
        self._timer.stop()
        self._thread.quit()
        self._thread.wait()
