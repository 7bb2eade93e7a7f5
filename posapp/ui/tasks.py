"""Work off the GUI thread, answers back on it (Anki's taskman, Picard's run_task).

Database operations go through one single-thread executor, so counter actions never
race each other on the store; printing and other slow I/O go through another. The
callback runs on the GUI thread with either the result or the error, never both.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

T = TypeVar("T")
Done = Callable[[Any, BaseException | None], None]


@dataclass(frozen=True, slots=True)
class _Answer:
    done: Done
    result: Any
    error: BaseException | None


class TaskManager(QObject):
    # One object per answer: PySide6 mis-counts references to a bare ``None`` passed as an
    # ``object`` argument across threads, which crashed the app after a few hundred answers.
    _sig_done = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="posapp-db")
        self._io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="posapp-io")
        self._sig_done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._in_flight = 0

    def run_db(self, work: Callable[[], T], done: Done) -> Future[T]:
        """Run ``work`` on the database thread; ``done(result, error)`` on the GUI thread."""
        return self._submit(self._db, work, done)

    def run_io(self, work: Callable[[], T], done: Done) -> Future[T]:
        return self._submit(self._io, work, done)

    @property
    def busy(self) -> bool:
        return self._in_flight > 0

    def _submit(self, pool: ThreadPoolExecutor, work: Callable[[], T], done: Done) -> Future[T]:
        self._in_flight += 1

        def call() -> T:
            try:
                result = work()
            except BaseException as exc:
                self._sig_done.emit(_Answer(done, None, exc))
                raise
            self._sig_done.emit(_Answer(done, result, None))
            return result

        return pool.submit(call)

    @Slot(object)
    def _deliver(self, answer: _Answer) -> None:
        self._in_flight -= 1
        answer.done(answer.result, answer.error)

    def shutdown(self) -> None:
        """Finish queued work (a sale being written must land), then stop the threads."""
        self._db.shutdown(wait=True)
        self._io.shutdown(wait=True, cancel_futures=True)
