"""The WeCom worker: one thread per HQ process that works behind the answers.

The callback route stores an event and kicks the worker, which processes it at once
(a ``WelcomeCode`` lasts 20 s); a committed reassignment kicks it too (the transfer
follows). A burst of kicks is let pass first (``quiet`` seconds without one, at most
``max_lag``: well inside the welcome code's 20 s), so the callbacks' answers never queue
behind the processing. Between kicks it wakes every ``interval`` seconds to retry what
failed, and every ``hourly`` seconds polls transfers and sweeps contact ways. Nothing it meets stops
it: a failing round is logged and the next one tries again.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from posapp.hq.assignment import REASSIGNED
from posapp.hq.wecom.service import WeComService

log = logging.getLogger(__name__)
CHUNK = 50  # callbacks a round: small, so a burst's requests get the process between rounds
_RUNNING: weakref.WeakSet[WeComWorker] = weakref.WeakSet()


class WeComWorker:
    def __init__(
        self,
        service: WeComService,
        *,
        interval: float = 30.0,
        hourly: float = 3600.0,
        quiet: float = 0.2,
        max_lag: float = 2.0,
    ) -> None:
        self.service = service
        self.interval = interval
        self.quiet, self.max_lag = quiet, max_lag
        self.hourly_every = hourly
        self._kicked = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_hourly = 0.0

    def kick(self) -> None:
        """Work now: a callback was stored, or a reassignment committed."""
        self._kicked.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hq-wecom", daemon=True)
        self._thread.start()
        _RUNNING.add(self)

    def stop(self) -> None:
        _RUNNING.discard(self)
        self._stop.set()
        self._kicked.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def round(self) -> bool:
        """One pass: a chunk of callbacks, reassignments, and the hourly work when it is
        due; True when more callbacks are waiting."""
        more = False
        try:
            more = self.service.process(CHUNK) >= CHUNK
        except Exception as exc:  # the database or WeCom unwell: the next round retries
            log.error("WeCom callbacks: %s; will try again", type(exc).__name__)
        try:
            self.service.follow_assignments()
        except Exception as exc:
            log.error("WeCom transfers: %s; will try again", type(exc).__name__)
        if time.monotonic() - self._last_hourly >= self.hourly_every:
            try:
                self.service.hourly()
            except Exception as exc:
                log.error("WeCom hourly round: %s; will try again", type(exc).__name__)
            else:
                self._last_hourly = time.monotonic()
        return more

    def _run(self) -> None:
        while not self._stop.is_set():
            self._kicked.clear()
            if self.round():  # a backlog: on with it, but a burst's answers come first
                if self._kicked.is_set():
                    self._stop.wait(self.quiet)
                continue
            if not self._kicked.wait(self.interval):
                continue
            first = time.monotonic()
            while not self._stop.is_set() and time.monotonic() - first < self.max_lag:
                self._kicked.clear()
                if not self._kicked.wait(self.quiet):
                    break


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """A reassignment committed (``posapp.hq.assignment`` marks the session): the running
    workers follow it into WeCom now rather than at their next round."""
    reassigned: Any = session.info.pop(REASSIGNED, None)
    if reassigned:
        for worker in list(_RUNNING):
            worker.kick()
