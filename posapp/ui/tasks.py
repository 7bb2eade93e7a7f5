"""Work off the GUI thread, answers back on it (Anki's taskman, Picard's run_task).

Database operations go through one single-thread executor, so counter actions never
race each other on the store; printing and other slow I/O go through another. On the GUI
thread either ``done(result)`` or ``failed(error)`` runs, never both; with no ``failed``
the error goes to ``sig_failed`` (the window says it on its message line).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

T = TypeVar("T")
Failed = Callable[[BaseException], None]


@dataclass(frozen=True, slots=True)
class _Answer:
    deliver: Callable[[], None]


class TaskManager(QObject):
    # One object per answer: PySide6 mis-counts references to a bare ``None`` passed as an
    # ``object`` argument across threads, which crashed the app after a few hundred answers.
    _sig_done = Signal(object)
    sig_failed = Signal(object)  # BaseException: an operation failed that gave no ``failed``

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="posapp-db")
        self._io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="posapp-io")
        self._sig_done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._in_flight = 0

    def run_db(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Failed | None = None
    ) -> Future[T]:
        """Run ``work`` on the database thread; its answer comes back on the GUI thread."""
        return self._submit(self._db, work, done, failed)

    def run_io(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Failed | None = None
    ) -> Future[T]:
        return self._submit(self._io, work, done, failed)

    @property
    def busy(self) -> bool:
        """Something queued has not answered yet (what the tests and benchmarks wait on)."""
        return self._in_flight > 0

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Failed | None,
    ) -> Future[T]:
        self._in_flight += 1
        refused = failed or self.sig_failed.emit

        def call() -> T:
            try:
                result = work()
            except BaseException as exc:
                self._sig_done.emit(_Answer(partial(refused, exc)))
                raise
            self._sig_done.emit(_Answer(partial(done, result)))
            return result

        return pool.submit(call)

    @Slot(object)
    def _deliver(self, answer: _Answer) -> None:
        self._in_flight -= 1
        answer.deliver()

    def shutdown(self) -> None:
        """Finish queued work (a sale being written must land), then stop the threads."""
        self._db.shutdown(wait=True)
        self._io.shutdown(wait=True, cancel_futures=True)
