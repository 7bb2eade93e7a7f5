"""Load for HQ: many simulated counters pushing event batches over real HTTP to HQ processes.

Used by `make bench` (the ingest figures in docs/benchmarks.md) and, at a small size, by
the end-to-end test that runs two HQ processes on one PostgreSQL.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from posapp.domain.ids import new_id
from posapp.domain.member_code import new_member_code
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate

MASTER_KEY = "load-test-master-key-0123456789abcdef"
NOTICE = {"notice_id": "privacy", "version": 1, "language": "zh-CN", "text_hash": "a" * 64}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(
    argv: list[str], log_path: Path, *, port: int, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A server process on a loopback port, until its /healthz answers; yields its base URL
    and stops it afterwards."""
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[1:4]} did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def hq_process(
    db_url: str, data_dir: Path, *, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A real `posapp hq serve` on a free loopback port; yields its base URL."""
    port = port or free_port()
    env = {**os.environ, "POSAPP_HQ_DATABASE_URL": db_url, "POSAPP_HQ_DATA_DIR": str(data_dir),
           "POSAPP_HQ_MASTER_KEY": MASTER_KEY, "POSAPP_HQ_LOG_LEVEL": "warning",
           "POSAPP_HQ_RATE_LIMIT_PER_MINUTE": "1000000", "POSAPP_HQ_REGISTER_LIMIT_PER_MINUTE": "100000",
           **(env or {})}  # fmt: skip
    argv = [sys.executable, "-m", "posapp", "hq", "serve", "--port", str(port)]
    with served(argv, data_dir / f"hq-{port}.log", port=port, env=env) as url:
        yield url


@dataclass
class SimDevice:
    url: str
    device_id: str
    token: str
    seq: int = 0
    members: list[str] = field(default_factory=list)
    sent: list[list[dict[str, Any]]] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)

    def batch(self, size: int, rng: random.Random) -> list[dict[str, Any]]:
        """A realistic mix: mostly sales, a third of them a member's, some enrolments."""
        events = []
        stamp = datetime.now(UTC).replace(tzinfo=None).isoformat()
        for _ in range(size):
            self.seq += 1
            if not self.members or rng.random() < 0.05:
                member_id = new_id()
                self.members.append(member_id)
                phone = f"+86138{rng.randrange(10**8):08d}"
                kind, payload = "member.enrolled", {
                    "member_id": member_id, "member_code": new_member_code(), "phone_e164": phone,
                    "consents": [{"purpose": "membership", "granted": True, "notice": NOTICE}],
                    "enrolled_at": stamp,
                }  # fmt: skip
            else:
                member = rng.choice(self.members) if rng.random() < 0.33 else None
                kind, payload = "sale.recorded", {
                    "purchase_id": new_id(), "receipt_no": f"R{self.seq}", "amount_fen": rng.randrange(100, 99_900),
                    "currency": "CNY", "member_id": member, "occurred_at": stamp,
                }  # fmt: skip
            events.append({"event_id": new_id(), "device_id": self.device_id, "seq": self.seq, "type": kind,
                           "occurred_at": stamp, "schema_version": 1, "payload": payload})  # fmt: skip
        return events

    def push(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        for attempt in range(20):
            try:
                answer = self.session.post(
                    f"{self.url}/v1/sync/push",
                    json={"events": events},
                    headers={"Authorization": f"Bearer {self.token}"},
                    timeout=120,
                )
            except requests.RequestException:
                time.sleep(0.2 * (attempt + 1))
                continue
            if answer.status_code == 200:
                return answer.json()
            if answer.status_code not in (429, 500, 502, 503):
                raise RuntimeError(f"push refused: {answer.status_code} {answer.text[:300]}")
            time.sleep(0.2 * (attempt + 1))
        raise RuntimeError("push kept failing")


def provision(
    db_url: str, data_dir: Path, *, stores: int, devices: int, urls: list[str]
) -> list[SimDevice]:
    """Stores in HQ's database, then each device registers over HTTP (round-robin over ``urls``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = HqDatabase(db_url)
    migrate(db)
    now = datetime.now(UTC).replace(tzinfo=None)
    codes = []
    with db.write() as session:
        for s in range(stores):
            admin.add_store(session, store_id=f"store-{s}", name=f"门店 {s}", now=now)
        for d in range(devices):
            codes.append(
                admin.device_code(session, store_id=f"store-{d % stores}", now=now, minutes=60)
            )
    db.close()
    sims = []
    for d, code in enumerate(codes):
        url = urls[d % len(urls)]
        answer = requests.post(f"{url}/v1/devices/register", json={"code": code}, timeout=30)
        answer.raise_for_status()
        body = answer.json()
        sims.append(SimDevice(url, body["device_id"], body["device_secret"]))
    return sims


@dataclass
class LoadResult:
    events: int
    seconds: float
    pushes: int

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def run_load(sims: list[SimDevice], *, batches: int, batch_size: int, seed: int = 1) -> LoadResult:
    """Every device pushes ``batches`` batches, all devices at once; returns events/s."""
    rng = random.Random(seed)
    prepared = {sim.device_id: [sim.batch(batch_size, rng) for _ in range(batches)] for sim in sims}
    errors: list[BaseException] = []
    start = threading.Barrier(len(sims) + 1)

    def work(sim: SimDevice) -> None:
        try:
            start.wait()
            for events in prepared[sim.device_id]:
                answer = sim.push(events)
                sim.sent.append(events)
                if answer["acked_through"] != events[-1]["seq"]:
                    raise RuntimeError(
                        f"not all acked: {answer['acked_through']} < {events[-1]['seq']}"
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(sim,)) for sim in sims]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    total = sum(len(b) for batches_ in prepared.values() for b in batches_)
    return LoadResult(total, elapsed, len(sims) * batches)
