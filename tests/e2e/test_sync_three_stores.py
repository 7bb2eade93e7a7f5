"""Three stores offline for "three days" (50,000 events between them), then all sync: HQ and the
stores agree, the duplicate phone is one member, the erased member's data is nowhere."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hq_load import MASTER_KEY, hq_process
from sqlalchemy import text
from sync_world import now, registered_counter

from posapp.domain.consent import Purpose
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.members import change_consent, enrol_member, identify
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for

SHARED = "+8613812345678"  # enrolled at stores a and b while both were offline
ERASED = "+8613987654321"  # enrolled at c; erased at HQ while c is offline with pending edits
EVENTS = 50_000


def _sync(db: Database, data: Path) -> None:
    SyncEngine(db, client_for(db, data)).run_once()


@pytest.mark.slow
def test_three_offline_stores_reconcile(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    hq_db = HqDatabase(url)
    migrate(hq_db)
    with hq_db.write() as session:
        for store in "abc":
            admin.add_store(session, store_id=store, name=f"门店 {store}", now=now())
    notice = current_notice()
    rng = random.Random(3)
    with hq_process(url, tmp_path) as base:
        tills = {
            s: (registered_counter(tmp_path / s, base=base, hq_db=hq_db, store=s), tmp_path / s)
            for s in "abc"
        }
        members: dict[str, str] = {}
        for store, phone in (("a", SHARED), ("b", SHARED), ("c", ERASED)):
            db = tills[store][0]
            with db.write() as s:
                members[store] = enrol_member(s, phone=phone, name="顾客", consents={Purpose.MEMBERSHIP},
                                              notice=notice, staff_id=None).member_id  # fmt: skip
        _sync(*tills["c"])  # HQ learns c's member, then c goes offline
        with hq_db.write() as session:
            erased_id = session.execute(
                text("SELECT id FROM member WHERE phone_e164 = :p"), {"p": ERASED}
            ).scalar_one()
            admin.erase_member(
                session,
                member_id=erased_id,
                requested_by="hq",
                now=now(),
                master_key=MASTER_KEY.encode(),
            )
        c_db = tills["c"][0]
        with c_db.write() as s:  # c, still offline, keeps editing the (already erased) member
            change_consent(s, member_id=members["c"], purpose=Purpose.MARKETING, granted=True,
                           notice=notice, staff_id=None)  # fmt: skip
        per_store = (EVENTS - 5) // 3
        for store, (db, _) in tills.items():
            for i in range(per_store):
                member = members[store] if rng.random() < 0.1 else None
                with db.write() as s:
                    record_sale(
                        s,
                        receipt_no=f"{store}-{i}",
                        amount=rng.randrange(100, 50_000),
                        member_id=member,
                    )
        local_total = sum(
            db.raw().execute("SELECT count(*) FROM outbox_event").fetchone()[0]
            for db, _ in tills.values()
        )
        assert local_total >= EVENTS - 2
        for _ in range(2):  # everyone comes back online
            for db, data in tills.values():
                _sync(db, data)

        with hq_db.read() as session:
            hq_events, distinct = session.execute(
                text("SELECT count(*), count(DISTINCT event_id) FROM event")
            ).one()
            shared = session.execute(
                text("SELECT id, visit_count FROM member WHERE phone_e164 = :p"), {"p": SHARED}
            ).all()
            leftover = session.execute(
                text("SELECT count(*) FROM member WHERE phone_e164 = :p"), {"p": ERASED}
            ).scalar_one()
        local_total = sum(
            db.raw().execute("SELECT count(*) FROM outbox_event").fetchone()[0]
            for db, _ in tills.values()
        )
        assert (
            hq_events == distinct == local_total
        )  # every fact exactly once (erasure acks included)
        assert len(shared) == 1 and leftover == 0
        canonical, visits = shared[0]
        for store in "ab":
            db = tills[store][0]
            with db.lookup() as lookup:
                card = identify(lookup, SHARED).card
            assert card is not None and card.id == canonical and card.summary.visit_count == visits
        for db, _ in tills.values():
            raw = db.raw()
            assert (
                raw.execute(
                    "SELECT count(*) FROM member WHERE phone_e164 = ?", (ERASED,)
                ).fetchone()[0]
                == 0
            )
            assert not any(ERASED in p for (p,) in raw.execute("SELECT payload FROM outbox_event"))
            assert (
                raw.execute("SELECT count(*) FROM outbox_event WHERE acked_at IS NULL").fetchone()[
                    0
                ]
                == 0
            )
        with hq_db.read() as session:
            assert admin.erasure_status(session, erased_id)["stores"]["c"] is not None
    hq_db.close()
