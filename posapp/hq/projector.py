"""The projector: applies the events HQ has acknowledged, behind the acknowledgement.

Push only appends to the log, so a counter emptying days of backlog waits for HQ's disk,
not for HQ's bookkeeping. The projector applies received events in HQ's order, a chunk per
serialised write transaction, and keeps out of the pushers' way while a burst lasts: it
runs once pushes have paused for ``quiet`` seconds, or when the oldest unapplied event has
waited ``max_lag`` seconds. Anything that reads derived state first calls ``catch_up``,
so no answer is ever built from a log that has not been applied.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from posapp.hq.db import HqDatabase
from posapp.hq.feed import emit
from posapp.hq.ingest import oldest_unprojected, unprojected_through
from posapp.hq.models import REJECTED, Event
from posapp.hq.projection import project, rejected

log = logging.getLogger(__name__)

CHUNK = 2000


class StillApplying(Exception):
    """HQ has not applied the events yet within the time it may keep a caller waiting."""


class Projector:
    def __init__(
        self,
        database: HqDatabase,
        master_key: bytes,
        clock: Callable[[], datetime],
        *,
        quiet: float = 0.3,
        max_lag: float = 10.0,
    ) -> None:
        self.database = database
        self.master_key = master_key
        self.clock = clock
        self.quiet = quiet
        self.max_lag = max_lag
        self._lock = threading.Lock()  # one projector per process; writes serialise across them
        self._pushed = threading.Event()
        self._stop = threading.Event()
        self._last_push = 0.0
        self._waiting_since: float | None = None
        self._thread: threading.Thread | None = None

    # -- called by the push route ------------------------------------------------------------

    def pushed(self) -> None:
        now = time.monotonic()
        self._last_push = now
        if self._waiting_since is None:
            self._waiting_since = now
        self._pushed.set()

    # -- applying ----------------------------------------------------------------------------

    def step(self) -> int:
        """Apply one chunk in one transaction; returns how many events it took."""
        with self._lock:
            try:
                with self.database.write() as session:
                    return project(
                        session, now=self.clock(), master_key=self.master_key, limit=CHUNK
                    )
            except OperationalError:
                raise  # the database is unwell or busy: the caller tries again later
            except Exception as exc:
                log.error("projection failed (%s); applying one event at a time", _where(exc))
                return self._step_singly()

    def _step_singly(self) -> int:
        """A chunk failed unexpectedly: apply its events one at a time until the one that
        fails is found and set aside, so one bad fact never holds up every store's sync."""
        done = 0
        while done < CHUNK:
            try:
                with self.database.write() as session:
                    taken = project(session, now=self.clock(), master_key=self.master_key, limit=1)
            except OperationalError:
                raise
            except Exception as exc:
                return done + self._set_aside(exc)
            if not taken:
                break
            done += taken
        return done

    def _set_aside(self, exc: Exception) -> int:
        with self.database.write() as session:
            first = oldest_unprojected(session)
            if first is None:
                return 0
            reason = f"HQ could not apply this event ({type(exc).__name__})"
            session.execute(
                update(Event).where(Event.id == first.id).values(status=REJECTED, reason=reason)
            )
            change = rejected(
                first.store_id,
                event_id=first.event_id,
                device_id=first.device_id,
                seq=first.seq,
                reason=reason,
            )
            emit(session, [change], now=self.clock())
        log.error("event %s set aside: %s", first.event_id, _where(exc))
        return 1

    def catch_up(self, *, device_id: str | None = None, budget: float = 20.0) -> None:
        """Apply until nothing received (of ``device_id``, or of anyone) waits before now.

        Raises ``StillApplying`` if that takes longer than ``budget`` seconds; each chunk is
        committed, so the next call goes on where this one stopped.
        """
        with self.database.read() as session:
            target = unprojected_through(session, device_id)
        deadline = time.monotonic() + budget
        while target is not None:
            self.step()
            with self.database.read() as session:
                if device_id is not None:
                    if unprojected_through(session, device_id) is None:
                        return
                elif oldest_unprojected(session, through=target) is None:
                    return
            if time.monotonic() > deadline:
                raise StillApplying

    # -- in the background -------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hq-projector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._pushed.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        busy = True  # a restart may find a backlog left by the last run
        while not self._stop.is_set():
            if not busy:
                self._pushed.wait(timeout=5.0)
                self._pushed.clear()
            if self._stop.is_set():
                return
            now = time.monotonic()
            since_push = now - self._last_push
            waited = now - (self._waiting_since or now)
            if since_push < self.quiet and waited < self.max_lag:
                self._stop.wait(min(self.quiet - since_push, self.max_lag - waited) + 0.01)
                busy = True
                continue
            try:
                done = self.step()
            except Exception as exc:
                log.error("projector: %s; will try again", _where(exc))
                self._stop.wait(1.0)
                busy = True
                continue
            busy = done > 0
            if not busy:
                self._waiting_since = None


def _where(exc: BaseException) -> str:
    """The exception's type and the line that raised it; never its message, which may quote
    a payload (a phone, a name)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {Path(last.filename).name}:{last.lineno} in {last.name}"
