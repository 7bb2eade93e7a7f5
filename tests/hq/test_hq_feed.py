"""The changes feed: HQ commit order, no skipped rows, 410 when a cursor cannot continue."""

from __future__ import annotations

import threading
import time

from hq_harness import Hq, members_in, now

from posapp.hq import admin
from posapp.hq.feed import read_changes


def test_snapshot_then_feed_then_nothing_new(hq: Hq) -> None:
    hq.store("s1", staff=2)
    with hq.db.write() as session:
        admin.set_rules(session, kind="ladder", body={"regular_min_purchases": 3}, now=now())
    till = hq.counter("s1")
    enrol = till.enrol("+8613812345678")
    till.push()
    first = till.pull(limit=1)  # one member per page: paging must still see everything
    kinds = [c["kind"] for c in first]
    assert kinds[0] == "store" and "rules" in kinds and kinds.count("staff") == 2
    assert enrol["payload"]["member_id"] in members_in(first)
    staff = [c["data"] for c in first if c["kind"] == "staff"]
    assert all(s["pin_hash"].startswith("$argon2id$") for s in staff)
    assert till.pull() == []
    till.sale(member_id=enrol["payload"]["member_id"])
    till.push()
    later = till.pull()
    assert [c["kind"] for c in later] == ["member"]
    assert later[0]["data"]["visit_count"] == 1


def test_unknown_foreign_and_future_cursors_get_410(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    till.pull()
    good = till.cursor
    assert good is not None
    epoch = good.split(":")[1]
    for cursor in [
        "garbage",
        "c:otherepoch:0:0",
        f"c:{epoch}:999999:-",
        f"c:{epoch}:1:wrongtag",
        "s:x",
    ]:
        answer = hq.client.get("/v1/sync/changes", params={"cursor": cursor}, headers=till.auth)
        assert answer.status_code == 410, cursor
        assert answer.json()["error"] == "cursor_gone"


def test_a_database_restored_from_an_older_backup_invalidates_newer_cursors(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    till.enrol("+8613812345678")
    till.push()
    till.pull()
    # Simulate the restore: the changes the device has seen are gone, and new ones reuse seqs.
    with hq.db.write() as session:
        from sqlalchemy import text

        top = session.execute(text("SELECT max(seq) FROM change")).scalar_one()
        session.execute(text("DELETE FROM change WHERE seq = :s"), {"s": top})
        session.execute(text("UPDATE counter SET value = value - 1"))
        admin.set_rules(session, kind="ladder", body={}, now=now())
    answer = hq.client.get("/v1/sync/changes", params={"cursor": till.cursor}, headers=till.auth)
    assert answer.status_code == 410


def test_a_slow_writer_never_lets_a_reader_skip_its_row(hq: Hq) -> None:
    """Writer A takes its seq and commits late; writer B starts after A. A reader polling the
    feed throughout must see A's change before or together with B's, never B's alone."""
    hq.store("s1")
    till = hq.counter("s1")
    till.pull()
    a_has_seq = threading.Event()
    order: list[str] = []

    def slow_writer() -> None:
        with hq.db.write() as session:
            admin.set_rules(session, kind="ladder", body={"regular_min_purchases": 4}, now=now())
            a_has_seq.set()
            time.sleep(0.6)
        order.append("a")

    def fast_writer() -> None:
        a_has_seq.wait()
        with hq.db.write() as session:
            admin.set_rules(session, kind="follow_up", body={"thank_you_days": 1}, now=now())
        order.append("b")

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=fast_writer)]
    for t in threads:
        t.start()
    cursor = till.cursor
    seen: list[str] = []
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        with hq.db.read() as session:
            page, cursor, _ = read_changes(session, store_id="s1", cursor=cursor, limit=100)
        seen += [c.key for c in page if c.kind == "rules"]
        time.sleep(0.02)
    for t in threads:
        t.join()
    assert order == ["a", "b"]  # the sequencer made B wait for A's commit
    assert seen == ["ladder", "follow_up"]
