"""Sync over a shop's link: an HQ that never answers, or answers a trickle, costs a round a
bounded, reported wait; each push attempt carries its own device time.

The HQ here is a small HTTP server on loopback that misbehaves on cue (the network and a
stuck server are the edges being faked); the client, the engine and the SQLite file are
the real ones.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from posapp.hq.config import HqSettings
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.models import SyncState
from posapp.sync import client as hq_client
from posapp.sync.client import HqClient, HqUnavailable, utcnow
from posapp.sync.engine import RoundResult, SyncEngine


@dataclass
class Seen:
    path: str
    arrived: datetime
    headers: dict[str, str]


@dataclass
class FlakyHq:
    """Answers each request as the next cue says: 'hang' (never), 'trickle' (a byte a
    while), else a good push answer."""

    cues: list[str]
    seen: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        hq = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def do_POST(self) -> None:
                hq.seen.append(Seen(self.path, utcnow(), dict(self.headers.items())))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                cue = hq.cues.pop(0) if hq.cues else "answer"
                if cue == "hang":
                    hq.release.wait(30)
                    return
                reply = json.dumps(
                    {"acked_through": body["events"][-1]["seq"], "hq_time": utcnow().isoformat()}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                if cue == "trickle":
                    for byte in reply:
                        if hq.release.wait(0.2):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.wfile.write(reply)

        return Handler

    def __enter__(self) -> FlakyHq:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


BODY = json.dumps({"events": [{"seq": 1}]}).encode()


@pytest.fixture
def messages() -> list[str]:
    return []


def client(hq: FlakyHq, messages: list[str], **options: float) -> HqClient:
    return HqClient(hq.url, "d.dev.secret", on_progress=messages.append, **options)  # type: ignore[arg-type]


@pytest.fixture
def flaky(request: pytest.FixtureRequest) -> Iterator[FlakyHq]:
    with FlakyHq(list(request.param)) as hq:
        yield hq


def test_the_defaults_fit_a_shops_link_and_hqs_own_waits() -> None:
    hq = HqSettings(master_key="k" * 32)
    assert hq_client.CONNECT_TIMEOUT_S <= 5
    assert hq_client.PUSH_READ_TIMEOUT_S <= 15  # one lost answer costs seconds, not a minute
    # HQ may hold a changes page while it applies the counter's own events: never cut it off.
    assert hq.apply_wait_seconds + 5 <= hq_client.CHANGES_READ_TIMEOUT_S
    assert hq_client.CALL_BUDGET_S <= 60


@pytest.mark.parametrize("flaky", [["hang"] * 20], indirect=True)
def test_an_hq_that_never_answers_costs_one_bounded_reported_wait(
    flaky: FlakyHq, messages: list[str]
) -> None:
    started = time.monotonic()
    with pytest.raises(HqUnavailable, match="did not answer in time"):
        client(flaky, messages, read_timeout=1.0, budget_s=6.0).push(BODY)
    took = time.monotonic() - started
    assert took < 6.5, took  # the call's budget, not attempts x read timeout (6 x 60 s before)
    assert len(flaky.seen) >= 3  # it did try again
    assert len(messages) == len(flaky.seen) - 1  # every retry was said while waiting
    assert "did not answer in time" in messages[0] and "Trying again in" in messages[0]


@pytest.mark.parametrize("flaky", [["trickle", "answer"]], indirect=True)
def test_an_answer_that_trickles_past_its_deadline_is_dropped_and_retried(
    flaky: FlakyHq, messages: list[str]
) -> None:
    pushed = client(flaky, messages, answer_deadline_s=1.0).push(BODY)
    assert pushed.answer.acked_through == 1
    assert len(flaky.seen) == 2
    assert "too slowly" in messages[0]


@pytest.mark.parametrize("flaky", [["hang", "answer"]], indirect=True)
def test_each_push_attempt_sends_its_own_device_time(flaky: FlakyHq, messages: list[str]) -> None:
    pushed = client(flaky, messages, read_timeout=2.0).push(BODY)
    first, second = (datetime.fromisoformat(s.headers["X-Device-Time"]) for s in flaky.seen)
    for seen in flaky.seen:  # each header is the time its attempt left, not the first one's
        sent = datetime.fromisoformat(seen.headers["X-Device-Time"])
        assert abs((seen.arrived - sent).total_seconds()) < 0.5
    assert (second - first).total_seconds() >= 2.0
    assert pushed.sent_at == second


@pytest.mark.parametrize("flaky", [["hang", "answer"]], indirect=True)
def test_the_recorded_clock_offset_is_the_answering_attempts(
    flaky: FlakyHq, messages: list[str], db: Database
) -> None:
    """Same clocks on both sides: the offset is 0, not minus half the time spent retrying."""
    with db.write() as session:
        record_sale(session, receipt_no="R-LINK-1", amount="10.00")
    engine = SyncEngine(db, client(flaky, messages, read_timeout=3.0))
    engine.push(RoundResult())
    assert len(flaky.seen) == 2
    with db.read() as session:
        skew = session.scalar(select(SyncState.clock_skew_s).where(SyncState.id == 1))
    assert skew == 0
