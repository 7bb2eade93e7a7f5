"""A hypothesis state machine: a counter sells, enrols and syncs through a faulty network
against a real HQ process; after every clean sync HQ holds exactly the counter's events."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hq_load import hq_process
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from soak import scale
from sqlalchemy import text
from sync_world import now
from test_sync_faults import FAULTS, Faulty

from posapp.domain.consent import Purpose
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.members import enrol_member
from posapp.services.sales import record_sale
from posapp.store.migrate import open_database
from posapp.sync.client import HqClient, HqError
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for, register


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, HqDatabase]]:
    home = tmp_path_factory.mktemp("hq")
    url = f"sqlite:///{home / 'hq.db'}"
    db = HqDatabase(url)
    migrate(db)
    with db.write() as session:
        admin.add_store(session, store_id="a", name="门店", now=now())
    with hq_process(url, home) as base:
        yield base, db
    db.close()


def test_sync_state_machine(hq: tuple[str, HqDatabase]) -> None:
    base, hq_db = hq
    notice = current_notice()

    class Counter(RuleBasedStateMachine):
        @initialize()
        def open_counter(self) -> None:
            self.dir = Path(tempfile.mkdtemp(prefix="posapp-model-"))
            self.db = open_database(self.dir / "posapp.db")
            with hq_db.write() as session:
                code = admin.device_code(session, store_id="a", now=now(), minutes=10)
            register(self.db, self.dir, hq_url=base, code=code)
            self.device = self.db.raw().execute("SELECT device_id FROM sync_state").fetchone()[0]
            self.receipts = 0
            self.clean = False

        @rule(amount=st.integers(0, 1_000_000))
        def sell(self, amount: int) -> None:
            self.receipts += 1
            with self.db.write() as s:
                # A ¥0.00 sale is a gift, recorded only when said so: it still syncs like any.
                record_sale(s, receipt_no=f"M{self.receipts}", amount=amount, gift=amount == 0)
            self.clean = False

        @rule(number=st.integers(0, 10**8 - 1))
        def enrol(self, number: int) -> None:
            with self.db.write() as s:
                enrol_member(
                    s,
                    phone=f"+86137{number:08d}",
                    consents={Purpose.MEMBERSHIP},
                    notice=notice,
                    staff_id=None,
                )
            self.clean = False

        @rule(faults=st.lists(st.sampled_from(FAULTS), min_size=1, max_size=6))
        def sync_through_faults(self, faults: list[str]) -> None:
            plain = client_for(self.db, self.dir)
            session = requests.Session()
            session.mount("http://", Faulty(iter(faults)))
            client = HqClient(
                plain.base_url, plain.token, attempts=3, sleep=lambda _: None, session=session
            )
            with contextlib.suppress(HqError):
                SyncEngine(self.db, client).run_once()
            self.clean = False

        @rule()
        def sync(self) -> None:
            SyncEngine(self.db, client_for(self.db, self.dir)).run_once()
            self.clean = True

        @invariant()
        def hq_has_exactly_our_events_after_a_clean_sync(self) -> None:
            if not getattr(self, "clean", False):
                return
            raw = self.db.raw()
            local = raw.execute(
                "SELECT count(*), coalesce(max(seq), 0) FROM outbox_event"
            ).fetchone()
            assert (
                raw.execute("SELECT count(*) FROM outbox_event WHERE acked_at IS NULL").fetchone()[
                    0
                ]
                == 0
            )
            raw.close()
            with hq_db.read() as session:
                n, distinct, high = session.execute(
                    text(
                        "SELECT count(*), count(DISTINCT event_id), coalesce(max(seq), 0) FROM event WHERE device_id = :d"
                    ),
                    {"d": self.device},
                ).one()
            assert n == distinct == high == local[0] == local[1]

        def teardown(self) -> None:
            if hasattr(self, "db"):
                self.db.close()

    run_state_machine_as_test(
        Counter,
        settings=settings(
            max_examples=scale(12, 300),
            stateful_step_count=scale(12, 40),
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
