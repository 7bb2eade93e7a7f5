"""An erasure at a real HQ process ends with the member's phone and name in no byte of the
files HQ keeps: SQLite's database and its write-ahead log; PostgreSQL's table and index
files of HQ's database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hq_harness import NOTICE, now
from live_hq import LiveHq, live_hq
from pgcluster import PgCluster

from posapp.hq import admin

PHONE = "+8613812340987"
NAME = "欧阳娜娜"


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveHq, list[Path]]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db' / 'hq.db'}"
        (tmp_path / "db").mkdir()
        with live_hq(url, tmp_path / "hq") as hq:
            yield hq, [tmp_path / "db"]
        return
    url = str(request.getfixturevalue("pg_url"))
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    with live_hq(url, tmp_path / "hq") as hq:
        dbname = url.rsplit("/", 1)[1]
        with psycopg.connect(cluster.conninfo(dbname)) as conn:
            oid = conn.execute("SELECT oid FROM pg_database WHERE datname = %s", (dbname,))
            (database_oid,) = oid.fetchone() or (None,)
        yield hq, [cluster.data / "base" / str(database_oid)]  # every relation of HQ's database


def _found(places: list[Path], hq: LiveHq) -> list[str]:
    """Files holding the phone (any form) or the name, after what is in memory is on disk."""
    if not hq.db.is_sqlite:
        with hq.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CHECKPOINT")
    needles = (PHONE[3:].encode(), NAME.encode())
    hits = []
    for place in places:
        for root, _, files in os.walk(place):
            for name in files:
                data = (Path(root) / name).read_bytes()
                hits += [f"{name}:{n.decode()}" for n in needles if n in data]
    return hits


def test_an_erased_members_phone_and_name_are_in_no_byte_of_hqs_files(
    live: tuple[LiveHq, list[Path]],
) -> None:
    hq, places = live
    with hq.db.write() as session:
        admin.add_store(session, store_id="a", name="静安店", now=now())
        admin.add_store(session, store_id="b", name="徐汇店", now=now())
    at_a, at_b = hq.counter("a"), hq.counter("b")
    at_a.pull()
    at_b.pull()
    enrolled = at_a.enrol(PHONE, name=NAME)["payload"]
    at_a.sale(member_id=enrolled["member_id"])
    at_a.event("consent.changed", {"member_id": enrolled["member_id"], "changed_at": now().isoformat(),
               "choice": {"purpose": "marketing", "granted": True, "notice": NOTICE}})  # fmt: skip
    at_a.push()
    at_b.enrol(PHONE, name=NAME)  # the same customer at another store: a merge
    at_b.push()
    at_a.pull()
    at_b.pull()  # the feed now holds the member's data for both stores
    assert _found(places, hq)  # the scan does see them while they are there
    erased = hq.client.post(f"/v1/members/{enrolled['member_id']}/erase", headers=hq.as_admin())
    assert erased.status_code == 200, erased.text
    if hq.db.is_sqlite:
        assert _found(places, hq) == []  # the erasure's answer comes once the log is truncated
    else:
        # Vacuumed at once: the old versions are in no index and no query; their bytes stay
        # in the pages' free space until the nightly rewrite (docs/hq.md), which removes them.
        with hq.db.engine.connect() as conn:
            heaps = {
                str(node)
                for (node,) in conn.exec_driver_sql(
                    "SELECT relfilenode FROM pg_class WHERE relkind = 'r' AND relname IN"
                    " ('member', 'event', 'change', 'member_alias', 'consent', 'redemption')"
                )
            }
        assert {hit.split(":")[0] for hit in _found(places, hq)} <= heaps
    purged = subprocess.run(
        [sys.executable, "-m", "posapp", "hq", "--db", hq.db.url, "purge"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "POSAPP_HQ_DATA_DIR": str(hq.data)},
    )  # fmt: skip
    assert purged.returncode == 0, purged.stderr
    assert _found(places, hq) == []
    # The stores still apply it, and a replay of the original enrolment is still the same fact.
    assert any(c["kind"] == "member.erased" for c in at_b.pull())
    assert at_a.push(at_a.outbox[:1])["flagged"] == []
    assert _found(places, hq) == []
    assert _found([hq.data], hq) == []  # nor HQ's log, nor anything else in its data dir
