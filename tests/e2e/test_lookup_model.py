"""Random interleavings of enrolling at A, looking up at B (by phone or code), enrolling the
same phone at B too (HQ merges), erasing at HQ and syncing, against a real HQ process:
once both counters have synced, HQ, A and B agree on every member, none twice."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hq_load import MASTER_KEY, hq_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sync_world import now, registered_counter

from posapp.domain.consent import Purpose
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.hq_lookup import identify_in_brand
from posapp.services.members import enrol_member
from posapp.services.standing import current_consents
from posapp.store.db import Database
from posapp.store.models import Member
from posapp.sync.engine import SyncEngine
from posapp.sync.lookup import hq_asker
from posapp.sync.registration import client_for

PHONES = ("13800000001", "13800000002", "13800000003")
STORES = itertools.count()

Step = tuple[str, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(["enrol_a", "enrol_b", "phone_b", "code_b", "erase", "sync_a", "sync_b"]),
        st.integers(0, len(PHONES) - 1),
    ),
    min_size=1,
    max_size=10,
)


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, HqDatabase]]:
    home = tmp_path_factory.mktemp("hq")
    url = f"sqlite:///{home / 'hq.db'}"
    db = HqDatabase(url)
    migrate(db)
    with hq_process(url, home, env={"POSAPP_HQ_LOOKUP_LIMIT_PER_MINUTE": "100000"}) as base:
        yield base, db
    db.close()


def _sync(db: Database, data: Path) -> None:
    SyncEngine(db, client_for(db, data)).run_once()


def _e164(phone: str, n: int) -> str:
    """Each example its own customers: HQ's members are the brand's, across examples too."""
    return f"+86{phone[:-4]}{n % 1000:03d}{phone[-1]}"


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
def test_hq_and_both_stores_agree_whatever_the_order(
    hq: tuple[str, HqDatabase], plan: list[Step]
) -> None:
    base, hq_db = hq
    n = next(STORES)
    names = {"a": f"a{n}", "b": f"b{n}"}
    with hq_db.write() as session:
        for store in names.values():
            admin.add_store(session, store_id=store, name=f"Store {store}", now=now())
    home = Path(tempfile.mkdtemp(prefix="posapp-lookup-model-"))
    tills = {k: (registered_counter(home / k, base=base, hq_db=hq_db, store=s), home / k)
             for k, s in names.items()}  # fmt: skip
    phones = [_e164(p, n) for p in PHONES]
    erased: set[str] = set()
    try:
        for action, i in plan:
            phone = phones[i]
            if phone in erased:
                continue  # an erased customer is gone; joining again is another story
            if action in ("enrol_a", "enrol_b"):
                store = action[-1]
                with tills[store][0].write() as session:
                    enrol_member(session, phone=phone, name=f"顾客{i}", staff_id=None,
                                 store_id=names[store], consents={Purpose.MEMBERSHIP},
                                 notice=current_notice())  # fmt: skip
            elif action in ("sync_a", "sync_b"):
                _sync(*tills[action[-1]])
            elif action in ("phone_b", "code_b"):
                db, data = tills["b"]
                key = phone if action == "phone_b" else _hq_code(hq_db, phone)
                if key:
                    identify_in_brand(db, key, ask=hq_asker(db, data), region="CN")
            else:
                if _erase(hq_db, phone):
                    erased.add(phone)
        for _ in range(2):
            for till in tills.values():
                _sync(*till)
        _agree(hq_db, {k: t[0] for k, t in tills.items()}, names, phones)
    finally:
        for db, _ in tills.values():
            db.close()


def _hq_code(hq_db: HqDatabase, phone: str) -> str | None:
    with hq_db.read() as session:
        return session.execute(
            text("SELECT member_code FROM member WHERE phone_e164 = :p"), {"p": phone}
        ).scalar_one_or_none()


def _erase(hq_db: HqDatabase, phone: str) -> bool:
    with hq_db.write() as session:
        member_id = session.execute(
            text("SELECT id FROM member WHERE phone_e164 = :p"), {"p": phone}
        ).scalar_one_or_none()
        if member_id is None:
            return False
        admin.erase_member(session, member_id=member_id, requested_by="hq", now=now(),
                           master_key=MASTER_KEY.encode())  # fmt: skip
    return True


def _agree(
    hq_db: HqDatabase, dbs: dict[str, Database], names: dict[str, str], phones: list[str]
) -> None:
    for phone in phones:
        with hq_db.read() as session:
            at_hq = session.execute(
                text("SELECT id, member_code FROM member WHERE phone_e164 = :p"), {"p": phone}
            ).all()
            holders = {r[0] for r in session.execute(
                text("SELECT ms.store_id FROM member_store ms JOIN member m ON m.id = ms.member_id"
                     " WHERE m.phone_e164 = :p"), {"p": phone})}  # fmt: skip
        assert len(at_hq) <= 1, f"{phone} is {len(at_hq)} members at HQ"
        for store, db in dbs.items():
            with db.read() as session:
                here = list(session.scalars(select(Member).where(Member.phone_e164 == phone)))
            if not at_hq or names[store] not in holders:
                assert here == [], f"{store} keeps {phone}, which HQ does not give it"
                continue
            [(member_id, code)] = at_hq
            assert [(m.id, m.member_code) for m in here] == [(member_id, code)], (store, phone)
            with db.lookup() as lookup:
                assert current_consents(lookup, member_id)[Purpose.MEMBERSHIP], (store, phone)
