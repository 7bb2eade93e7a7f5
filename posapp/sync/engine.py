"""One sync round: push the outbox, then pull HQ's changes and have the store apply them.

Each pushed batch's acknowledgement and each pulled page (with its cursor) is one local
transaction, so a crash at any point leaves the counter consistent and the next round
simply continues: HQ answers a replayed batch with the same acknowledgement. The engine
only orchestrates; the counter's tables are written by ``posapp.store`` (``outbox`` for what
HQ acknowledged, ``hq_changes`` for what HQ sent).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from posapp.protocol.sync import PushResponse
from posapp.store import hq_changes, outbox
from posapp.store.db import Database
from posapp.sync.client import HqClient, SnapshotRequired
from posapp.timefmt import utcnow

log = logging.getLogger(__name__)
BATCH = 500
PAGE = (
    5_000  # changes per pull: a snapshot page; 3 bind lists of this size stay under SQLite's limit
)
GUI_PAGE = 250  # ≈ 30 ms to decode on a slow till: under the 50 ms a cashier would notice
RETENTION = timedelta(days=30)

# The moments a crash is most likely to cost something, named so the crash tests can kill a
# round exactly there (through ``SyncEngine(checkpoint=...)``) and check the next one mends it.
CrashPoint = Literal["after_push_before_ack", "after_ack", "mid_apply"]
Checkpoint = Callable[[CrashPoint], None]


def no_checkpoint(point: CrashPoint) -> None:
    """Production's checkpoint: nothing happens at any of them."""


@dataclass
class RoundResult:
    pushed: int = 0
    rejected: int = 0  # HQ's refusals of our events, come down with its changes
    applied: int = 0
    snapshot: bool = False


def encode_batch(rows: Sequence[Any]) -> bytes:
    """The push body for outbox rows, byte for byte what HQ's ``PushRequest`` reads."""
    events = ",".join(
        f'{{"event_id":{json.dumps(r.event_id)},"device_id":{json.dumps(r.device_id)},'
        f'"seq":{int(r.seq)},"type":{json.dumps(r.type)},'
        f'"occurred_at":{json.dumps(_iso(r.occurred_at))},'
        f'"schema_version":{int(r.schema_version)},"payload":{r.payload}}}'
        for r in rows
    )
    return f'{{"events":[{events}]}}'.encode()


def _iso(stored: object) -> str:
    if isinstance(stored, datetime):
        return stored.isoformat()
    return str(stored).replace(" ", "T", 1)  # SQLite's "YYYY-MM-DD HH:MM:SS.ffffff"


class SyncEngine:
    def __init__(
        self,
        db: Database,
        client: HqClient,
        *,
        page: int = PAGE,
        checkpoint: Checkpoint = no_checkpoint,
    ) -> None:
        """``page``: changes asked per pull. Beside a window keep it small (``GUI_PAGE``):
        decoding a page holds the GIL in one C call, so a big one freezes the screen.
        ``checkpoint`` is called at each ``CrashPoint`` (the crash tests kill the process there)."""
        self.db = db
        self.client = client
        self.page = page
        self.checkpoint = checkpoint

    def run_once(self) -> RoundResult:
        result = RoundResult()
        try:
            self.push(result)
            self.pull(result)
        except Exception as exc:
            self._note_error(exc)
            raise
        with self.db.write() as session:
            outbox.note_sync_error(session, None)
        return result

    # -- push ------------------------------------------------------------------------------

    def push(self, result: RoundResult) -> None:
        """Send the outbox in seq order, a batch at a time, marking what HQ acknowledges.

        Only the HTTP call is on the critical path: while HQ works on one batch, a helper
        thread marks the previous answer and reads and encodes the next batch (assuming HQ
        takes all of this one; if it does not, that read is thrown away). Marks and reads
        run on that one thread in the order they were asked for. A crash before a mark is
        harmless: the batch goes again and HQ acknowledges the replay.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="posapp-push") as helper:
            marks: list[Future[None]] = []
            try:
                self._push(result, helper, marks)
            finally:
                for mark in marks:
                    mark.result()  # a failed mark is reported, after the others are done
        if marks:
            # Once a round, not once a batch: on a 100,000-event backlog this is most of the
            # counter's own time.
            with self.db.write() as session:
                outbox.forget_acknowledged(session, before=utcnow() - RETENTION)

    def _push(
        self, result: RoundResult, helper: ThreadPoolExecutor, marks: list[Future[None]]
    ) -> None:
        coming = helper.submit(self._read_batch, 0)
        while True:
            rows, body = coming.result()
            if not rows:
                return
            coming = helper.submit(self._read_batch, rows[-1].seq)
            pushed = self.client.push(body)  # timed by the attempt HQ answered
            answer = pushed.answer
            self.checkpoint("after_push_before_ack")  # HQ has committed; we have not marked it
            marks.append(
                helper.submit(self._mark, rows[0].seq, answer, pushed.sent_at, pushed.received_at)
            )
            result.pushed += max(0, min(answer.acked_through, rows[-1].seq) - rows[0].seq + 1)
            if answer.acked_through < rows[0].seq and answer.expected_seq is None:
                return  # no progress: leave it for the next round
            after = answer.acked_through
            if answer.expected_seq is not None:
                after = min(after, answer.expected_seq - 1)
            if after != rows[-1].seq:  # HQ did not take the whole batch: read from where it is
                coming.result()
                coming = helper.submit(self._read_batch, after)  # after the mark, on one thread

    def _read_batch(self, after: int) -> tuple[list[Any], bytes]:
        with self.db.read() as session:
            rows = outbox.unsent_batch(session, after=after, limit=BATCH)
        return rows, encode_batch(rows) if rows else b""

    def _mark(self, first: int, answer: PushResponse, sent_at: datetime, now: datetime) -> None:
        """Record HQ's answer to the batch that began at seq ``first``."""
        # HQ's clock came back with the answer; the midpoint of the call is our guess of "now".
        skew = int(
            (sent_at + (now - sent_at) / 2 - answer.hq_time.replace(tzinfo=None)).total_seconds()
        )
        with self.db.write() as session:
            outbox.mark_acknowledged(
                session,
                first=first,
                acked_through=answer.acked_through,
                expected_seq=answer.expected_seq,
                now=now,
                clock_skew_s=skew,
            )
        self.checkpoint("after_ack")

    # -- pull ------------------------------------------------------------------------------

    def pull(self, result: RoundResult) -> None:
        """Apply pages in order; the next page is fetched while this one is being applied."""
        with self.db.read() as session:
            cursor = hq_changes.sync_cursor(session)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="posapp-pull") as fetcher:
            coming = fetcher.submit(self.client.changes, cursor, limit=self.page)
            while True:
                try:
                    page = coming.result()
                except SnapshotRequired:
                    result.snapshot = True
                    cursor = None
                    coming = fetcher.submit(self.client.changes, None, limit=self.page)
                    continue
                if page.has_more:
                    coming = fetcher.submit(self.client.changes, page.cursor, limit=self.page)
                with self.db.write() as session:
                    hq_changes.take_page(
                        session,
                        page.changes,
                        cursor=page.cursor,
                        snapshot_begins=cursor is None,
                        snapshot_goes_on=page.cursor.startswith("s:"),
                        halfway=lambda: self.checkpoint("mid_apply"),  # nothing committed
                    )
                cursor = page.cursor
                result.applied += len(page.changes)
                result.rejected += sum(c.kind == "event.rejected" for c in page.changes)
                if not page.has_more:
                    break

    def _note_error(self, exc: Exception) -> None:
        try:
            with self.db.write() as session:
                outbox.note_sync_error(session, str(exc))
        except Exception:
            log.warning("could not record the sync error")
