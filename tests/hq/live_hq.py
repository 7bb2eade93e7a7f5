"""A real `posapp hq serve` process over real HTTP, driven with the harness's tills.

The setup an administrator does (stores, staff, credentials) goes straight to HQ's
database, as the CLI does; everything a counter, the partner or an admin does over the API
goes over HTTP to the process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from hq_harness import Hq
from hq_load import MASTER_KEY, hq_process

from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate


class Http:
    """What the harness's tills call (``post``, ``get``, ``put``), over HTTP to a base URL."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, timeout=60, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=60, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.put(self.base + path, timeout=60, **kwargs)


class LiveHq(Hq):
    def __init__(self, base: str, db: HqDatabase, data: Path) -> None:
        super().__init__(Http(base), db)  # type: ignore[arg-type]
        self.base = base
        self.data = data
        self.master_key = MASTER_KEY.encode()

    def applied(self) -> None:
        """Until the process has applied everything it acknowledged (its own status API)."""
        deadline = time.monotonic() + 60
        while True:
            answer = self.client.get("/v1/status/applying", headers=self.as_admin())
            assert answer.status_code == 200, answer.text
            if answer.json()["events_waiting"] == 0:
                return
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.05)

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.data.glob("hq-*.log"))


@contextmanager
def live_hq(db_url: str, data: Path, **env: str) -> Iterator[LiveHq]:
    data.mkdir(parents=True, exist_ok=True)
    db = HqDatabase(db_url)
    migrate(db)
    try:
        with hq_process(db_url, data, env=env) as base:
            yield LiveHq(base, db, data)
    finally:
        db.close()
