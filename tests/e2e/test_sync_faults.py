"""Faults between a counter and a real HQ process: whatever breaks, every event arrives once.

A transport adapter sits in the counter's requests session (the edge we do not own: the
network) and, per request, drops the reply after HQ committed, delivers twice, answers
5xx/429 itself, times out, or truncates or garbles HQ's answer.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from hq_load import hq_process
from requests.adapters import HTTPAdapter
from soak import scale
from sqlalchemy import text
from sync_world import now, registered_counter

from posapp.domain.consent import Purpose
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.members import enrol_member
from posapp.services.sales import record_sale
from posapp.sync.client import HqClient, HqError
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for
from posapp.sync.status import sync_status

FAULTS = ["ok", "drop_reply", "twice", "503", "502", "500", "429", "timeout", "truncate", "garbage"]


class Faulty(HTTPAdapter):
    """Does to each request whatever ``plan`` says next."""

    def __init__(self, plan: Iterator[str]) -> None:
        super().__init__()
        self.plan = plan
        self.seen: list[str] = []

    def _fake(
        self, request: requests.PreparedRequest, status: int, body: bytes
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        response.headers["Content-Type"] = "application/json"
        if status == 429:
            response.headers["Retry-After"] = "0"
        response.request = request
        response.url = request.url or ""
        return response

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        fault = next(self.plan, "ok")
        self.seen.append(fault)
        kwargs["stream"] = False
        if fault in ("503", "502", "500", "429"):
            return self._fake(request, int(fault), b'{"error":"x","message":"injected"}')
        if fault == "timeout":
            raise requests.Timeout("injected")
        answer = super().send(request, **kwargs)
        if fault == "drop_reply":
            raise requests.ConnectionError("injected: the reply was lost after HQ committed")
        if fault == "twice":
            return super().send(request, **kwargs)
        if fault == "truncate":
            return self._fake(request, 200, answer.content[: len(answer.content) // 2])
        if fault == "garbage":
            return self._fake(request, 200, b"\x00\xffnot json at all")
        return answer


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[str, HqDatabase, Path]]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    db = HqDatabase(url)
    migrate(db)
    with db.write() as session:
        admin.add_store(session, store_id="a", name="门店", now=now())
    with hq_process(url, tmp_path) as base:
        yield base, db, tmp_path
    db.close()


def _faulty_engine(db: Any, data: Path, plan: Iterator[str]) -> tuple[SyncEngine, Faulty]:
    plain = client_for(db, data)
    adapter = Faulty(plan)
    session = requests.Session()
    session.mount("http://", adapter)
    client = HqClient(
        plain.base_url,
        plain.token,
        attempts=8,
        sleep=lambda _: None,
        session=session,
        read_timeout=10,
    )
    return SyncEngine(db, client), adapter


@pytest.mark.parametrize("seed", range(scale(6, 120)))
def test_random_faults_never_lose_or_double_an_event(
    world: tuple[str, HqDatabase, Path], seed: int
) -> None:
    base, hq_db, tmp = world
    rng = random.Random(seed)
    data = tmp / "till"
    db = registered_counter(data, base=base, hq_db=hq_db)
    notice = current_notice()
    made = 0
    for round_ in range(8):
        for i in range(rng.randrange(1, 40)):
            with db.write() as s:
                if rng.random() < 0.2:
                    enrol_member(s, phone=f"+86139{rng.randrange(10**8):08d}", consents={Purpose.MEMBERSHIP},
                                 notice=notice, staff_id=None)  # fmt: skip
                else:
                    record_sale(
                        s, receipt_no=f"S{seed}-{round_}-{i}", amount=rng.randrange(1, 10_000)
                    )
            made += 1
        plan = iter(rng.choices(FAULTS, k=12))
        engine, _ = _faulty_engine(db, data, plan)
        with contextlib.suppress(HqError):  # a round may give up; the next one continues
            engine.run_once()
    SyncEngine(db, client_for(db, data)).run_once()  # the network heals
    raw = db.raw()
    local = raw.execute("SELECT count(*), min(seq), max(seq) FROM outbox_event").fetchone()
    assert (
        raw.execute("SELECT count(*) FROM outbox_event WHERE acked_at IS NULL").fetchone()[0] == 0
    )
    with hq_db.read() as session:
        total, distinct, low, high = session.execute(
            text("SELECT count(*), count(DISTINCT event_id), min(seq), max(seq) FROM event")
        ).one()
    assert total == distinct == local[0] == high  # every event exactly once, seq 1..N
    assert low == 1 and local[2] == high
    assert high >= made  # enrolments may add none; sales add one each
    db.close()


def test_named_faults_each_recover(world: tuple[str, HqDatabase, Path]) -> None:
    base, hq_db, tmp = world
    data = tmp / "till"
    db = registered_counter(data, base=base, hq_db=hq_db)
    for n, fault in enumerate(FAULTS):
        with db.write() as s:
            record_sale(s, receipt_no=f"N{n}", amount=100 + n)
        engine, adapter = _faulty_engine(db, data, iter([fault]))
        engine.run_once()
        assert adapter.seen[0] == fault
        with hq_db.read() as session:
            count = session.execute(text("SELECT count(*) FROM event")).scalar_one()
        assert count == n + 1, fault
    db.close()


@pytest.mark.parametrize("jump", [timedelta(days=3), -timedelta(days=3)])
def test_a_wrong_device_clock_is_flagged_but_trading_goes_on(
    world: tuple[str, HqDatabase, Path], monkeypatch: pytest.MonkeyPatch, jump: timedelta
) -> None:
    """The till's clock (the OS's, not ours) is three days off: sales still reach HQ, and
    status says how far off it is."""
    base, hq_db, tmp = world
    data = tmp / "till"
    db = registered_counter(data, base=base, hq_db=hq_db)
    import posapp.sync.client as client_module
    import posapp.sync.engine as engine_module

    for module in (engine_module, client_module):  # the device's clock, wherever it is read
        monkeypatch.setattr(module, "utcnow", lambda: now() + jump)
    with db.write() as s:
        record_sale(s, receipt_no="C1", amount=100, now=now() + jump)
    SyncEngine(db, client_for(db, data)).run_once()
    status = sync_status(db)
    assert status.pending == 0
    assert status.clock_off and abs(status.clock_skew_s - jump.total_seconds()) < 60  # type: ignore[operator]
    with hq_db.read() as session:
        skew = session.execute(text("SELECT clock_skew_s FROM device")).scalar_one()
    assert abs(skew - jump.total_seconds()) < 60
    # HQ's clock_skew_warn_s (300 s): its log names the device whose clock crossed it, once.
    with db.write() as s:
        record_sale(s, receipt_no="C2", amount=100, now=now() + jump)
    SyncEngine(db, client_for(db, data)).run_once()
    assert sync_status(db).pending == 0
    hq_log = "".join(p.read_text() for p in tmp.glob("hq-*.log"))
    assert hq_log.count("s off HQ's (over 300 s)") == 1, hq_log[-2000:]
    db.close()
