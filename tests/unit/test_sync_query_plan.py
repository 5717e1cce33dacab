"""An incremental sync (`since`) reads the changed rows through the seq index, never the whole location."""

from __future__ import annotations

import sqlite3

from bench.env import Backend
from sqlalchemy.dialects import sqlite

from stockledger.store.balances import location_query

VARIANTS = 100_000  # the benchmark's location: at this size SQLite, left alone, walks the primary key


def test_since_query_searches_the_seq_index_on_sqlite() -> None:
    backend = Backend.create("sqlite")
    try:
        org = backend.seed(VARIANTS, balances=True, ledger=VARIANTS)
        with sqlite3.connect(backend.sqlite_path) as conn:
            (latest,) = conn.execute("SELECT seq FROM organizations WHERE uuid = ?", (org.uuid,)).fetchone()
            query = location_query(org.uuid, org.locations["STORE"], since_seq=latest - 10)
            sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
            plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
            rows = conn.execute(sql).fetchall()
    finally:
        backend.drop()
    assert "USING INDEX ix_balances_org_location_seq (org_uuid=? AND location_uuid=? AND seq>?)" in plan, plan
    assert "(org_uuid=? AND location_uuid=?) |" not in plan + " |", f"scans the whole location: {plan}"
    assert len(rows) == 10
