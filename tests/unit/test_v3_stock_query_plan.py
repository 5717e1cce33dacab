"""A v3 stock page reads the rows it returns through primary keys, never the whole location or every
product of the organization, so paging a location costs about what reading it once does."""

from __future__ import annotations

import sqlite3
from typing import Any

from bench.env import Backend, product_uuid, variant_uuid
from sqlalchemy.dialects import sqlite

from stockledger.store import stock_rows

VARIANTS = 100_000  # the benchmark's location: at this size SQLite, joining products, builds a Bloom filter


def plan_and_rows(conn: sqlite3.Connection, statement: Any, params: dict[str, Any]) -> tuple[str, int]:
    compiled = statement.compile(dialect=sqlite.dialect())
    values = compiled.construct_params(params)
    positional = tuple(values[name] for name in compiled.positiontup)
    plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + str(compiled), positional))
    return plan, len(conn.execute(str(compiled), positional).fetchall())


def test_a_page_searches_primary_keys_from_its_position_on_sqlite() -> None:
    backend = Backend.create("sqlite")
    try:
        org = backend.seed(VARIANTS, balances=True)
        position = {"product": product_uuid(5_000), "variant": variant_uuid(50_000)}
        params = {"org": org.uuid, "location": org.locations["STORE"], "limit": 1001}
        with sqlite3.connect(backend.sqlite_path) as conn:
            first_plan, first_rows = plan_and_rows(conn, stock_rows._FIRST_PAGE, params)
            next_plan, next_rows = plan_and_rows(conn, stock_rows._NEXT_PAGE, {**params, **position})
    finally:
        backend.drop()
    assert first_rows == next_rows == 1001
    for plan in (first_plan, next_plan):
        assert (
            "SEARCH balances USING INDEX sqlite_autoindex_balances_1 (org_uuid=? AND location_uuid=?" in plan
        )
        assert (
            "SEARCH products USING INDEX sqlite_autoindex_products_1 (org_uuid=? AND product_uuid=?)" in plan
        )
        assert "low_stock_levels USING INDEX sqlite_autoindex_low_stock_levels_1" in plan
        assert "BLOOM FILTER" not in plan, plan  # built from every product of the organization, per page
        assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan
    assert "(product_uuid,variant_uuid)>(?,?)" in next_plan or "product_uuid>?" in next_plan, next_plan
