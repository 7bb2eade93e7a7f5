"""Issue 15, offline: a member who joined at store A buys at store B while B cannot ask HQ.

B's counter does not know the scanned code, shows it as another store's member and records
the sale with the code as a reference; after B syncs with a real HQ process, HQ has credited
the sale to the member (visits, spend, capture report), and the member and the sale's owner
have come down to B. A code HQ does not know stays anonymous, with the reason in HQ's log.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hq_load import hq_process
from sqlalchemy import text
from sync_world import now, registered_counter

from posapp.domain.consent import Purpose
from posapp.domain.member_code import new_member_code
from posapp.hq import admin, reports
from posapp.hq.applier import ANONYMOUS_UNKNOWN_CODE
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.intake import IntakeServer
from posapp.resources import current_notice
from posapp.services.counter import Counter
from posapp.services.members import enrol_member
from posapp.store.db import Database
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for, invite_signer

PHONE = "+8613812345678"
TOKEN = "intake-token-0123456789"


def _post(port: int, sale: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/sales", data=json.dumps(sale).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201
        return json.loads(answer.read())


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[tuple[str, HqDatabase]]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    db = HqDatabase(url)
    migrate(db)
    with db.write() as session:
        for store in "ab":
            admin.add_store(session, store_id=store, name=f"门店 {store}", now=now())
    with hq_process(url, tmp_path) as base:
        yield base, db
    db.close()


def _sync(db: Database, data: Path) -> None:
    SyncEngine(db, client_for(db, data)).run_once()


def _hq(hq_db: HqDatabase, sql: str, **params: object) -> list[tuple[object, ...]]:
    with hq_db.read() as session:
        return [tuple(r) for r in session.execute(text(sql), params)]


def test_a_sale_at_b_with_as_member_code_offline_is_credited_after_sync(
    tmp_path: Path, hq: tuple[str, HqDatabase]
) -> None:
    base, hq_db = hq
    till_a, till_b = tmp_path / "a", tmp_path / "b"
    a = registered_counter(till_a, base=base, hq_db=hq_db, store="a")
    b = registered_counter(till_b, base=base, hq_db=hq_db, store="b")
    _sync(b, till_b)  # B is up to date, then loses HQ
    with a.write() as s:
        joined = enrol_member(s, phone=PHONE, name="王芳", consents={Purpose.MEMBERSHIP},
                              notice=current_notice(), staff_id=None, store_id="a")  # fmt: skip
    _sync(a, till_a)

    counter_b = Counter(b, signer=invite_signer(b, till_b))
    seen = counter_b.identify(joined.member_code)
    assert seen.card is None and seen.unverified_code == joined.member_code
    sold = counter_b.sell(receipt_no="B-1", amount="88.00", staff_id=None,
                          member_code_ref=seen.unverified_code)  # fmt: skip
    stranger = new_member_code()
    while stranger == joined.member_code:
        stranger = new_member_code()
    anonymous = counter_b.sell(receipt_no="B-2", amount="12.00", staff_id=None,
                               member_code_ref=stranger)  # fmt: skip
    assert sold.sale.member_id is None and sold.card is None
    with IntakeServer(b, token=TOKEN, port=0) as intake:  # the POS scanned the code too
        from_pos = _post(intake.port, {"receipt_no": "POS-1", "amount": "20.00",
                                       "member_code": joined.member_code})  # fmt: skip
    assert from_pos["member_id"] is None and from_pos["member_code_ref"] == joined.member_code

    _sync(b, till_b)  # HQ reachable again: the sales go up, what HQ made of them comes down
    _sync(b, till_b)
    member_id = joined.member_id
    assert _hq(hq_db, "SELECT member_id FROM sale WHERE purchase_id = :p",
               p=sold.sale.purchase_id) == [(member_id,)]  # fmt: skip
    assert _hq(hq_db, "SELECT visit_count, lifetime_spend_fen FROM member WHERE id = :m",
               m=member_id) == [(2, 10800)]  # fmt: skip
    assert _hq(hq_db, "SELECT member_id FROM sale WHERE purchase_id = :p",
               p=from_pos["purchase_id"]) == [(member_id,)]  # fmt: skip
    assert _hq(hq_db, "SELECT member_id FROM sale WHERE purchase_id = :p",
               p=anonymous.sale.purchase_id) == [(None,)]  # fmt: skip
    assert _hq(hq_db, "SELECT reason FROM event WHERE payload LIKE :c",
               c=f"%{stranger}%") == [(ANONYMOUS_UNKNOWN_CODE,)]  # fmt: skip
    with hq_db.read() as s:
        capture = reports.capture_rate(
            s, store_id="b", since=now() - timedelta(days=1), until=now() + timedelta(days=1)
        )
    assert (capture["sales"], capture["known"]) == (3, 2)

    raw = b.raw()
    try:
        assert raw.execute(
            "SELECT member_id, member_code_ref FROM purchase WHERE receipt_no = 'B-1'"
        ).fetchone() == (member_id, joined.member_code)
        assert raw.execute("SELECT count(*) FROM member").fetchone() == (1,)
    finally:
        raw.close()
    again = counter_b.identify(joined.member_code)  # the next scan at B is local
    assert again.card is not None and again.card.id == member_id
    assert again.card.summary.visit_count == 2
