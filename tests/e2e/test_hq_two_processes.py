"""Two HQ processes on one PostgreSQL, counters pushing to both at once: nothing lost, nothing twice."""

from __future__ import annotations

from pathlib import Path

import psycopg
from hq_load import hq_process, provision, run_load
from pgcluster import PgCluster


def test_two_hq_processes_share_one_postgresql_without_loss_or_duplicates(
    pg_url: str, pg_cluster: PgCluster, tmp_path: Path
) -> None:
    with hq_process(pg_url, tmp_path) as first, hq_process(pg_url, tmp_path) as second:
        sims = provision(pg_url, tmp_path, stores=4, devices=24, urls=[first, second])
        result = run_load(sims, batches=4, batch_size=60)
        # A lost reply: each device sends its last batch again, to the *other* process.
        for sim in sims:
            sim.url = second if sim.url == first else first
            answer = sim.push(sim.sent[-1])
            assert answer["acked_through"] == sim.seq and answer["flagged"] == []
    assert result.events == 24 * 4 * 60
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.conninfo(dbname)) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM event"
        ).fetchone()
        assert total == distinct == result.events
        for device_id, n, low, high in conn.execute(
            "SELECT device_id, count(*), min(seq), max(seq) FROM event GROUP BY device_id"
        ):
            assert (n, low, high) == (240, 1, 240), device_id
        assert conn.execute("SELECT count(*) FROM event_conflict").fetchone()[0] == 0
        changes = [r[0] for r in conn.execute("SELECT seq FROM change ORDER BY seq")]
        assert changes == list(range(1, len(changes) + 1))  # one sequencer, no holes
