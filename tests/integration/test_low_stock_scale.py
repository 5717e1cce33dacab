"""The low-stock view over a large location: one indexed query with the right answer (no timing)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.low_stock_rules import default_level_units, effective_level
from stockledger.store.db import Database
from stockledger.store.low_stock_levels import low_stock_query
from stockledger.store.tables import balances, low_stock_levels, products
from tests.conftest import Api

PRODUCTS = 200
VARIANTS_PER_PRODUCT = 100  # 20,000 variants in one location
DEFAULT_UNITS = default_level_units(5)


def _uuid(kind: str, *numbers: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{kind}-{'-'.join(map(str, numbers))}"))


def build_rows(org: str, location: str) -> tuple[list[dict[str, Any]], ...]:
    """Balances, configurations and products of a big location, with a known low set."""
    product_rows, balance_rows, config_rows = [], [], []
    for p in range(PRODUCTS):
        product = _uuid("p", p)
        # Every 20th product is untracked: its variants never show.
        product_rows.append(
            {"org_uuid": org, "product_uuid": product, "tracked": p % 20 != 0, "updated_ms": 0}
        )
        for v in range(VARIANTS_PER_PRODUCT):
            n = p * VARIANTS_PER_PRODUCT + v
            key = {"org_uuid": org, "location_uuid": location, "product_uuid": product}
            variant = _uuid("v", p, v)
            balance_rows.append(
                {**key, "variant_uuid": variant, "units": (n % 12) * 1000, "seq": 1, "updated_ms": 0}
            )
            if n % 4 != 3:  # a quarter of the variants has no configuration
                level = None if n % 3 == 0 else (n % 9) * 1000
                config_rows.append(
                    {
                        **key,
                        "variant_uuid": variant,
                        "level_units": level,
                        "alert": n % 5 != 0,
                        "updated_ms": 0,
                    }
                )
    return product_rows, balance_rows, config_rows


def expected_low(
    product_rows: list[dict[str, Any]], balance_rows: list[dict[str, Any]], config_rows: list[dict[str, Any]]
) -> list[tuple[str, str, int]]:
    tracked = {r["product_uuid"] for r in product_rows if r["tracked"]}
    units = {(r["product_uuid"], r["variant_uuid"]): r["units"] for r in balance_rows}
    low = []
    for cfg in config_rows:
        key = (cfg["product_uuid"], cfg["variant_uuid"])
        level = effective_level(cfg["level_units"], DEFAULT_UNITS)
        if key[0] in tracked and cfg["alert"] and units[key] <= level:
            low.append((*key, units[key]))
    return sorted(low)


async def query_plan(conn: AsyncConnection, org: str, location: str) -> str:
    stmt = low_stock_query(org, location, DEFAULT_UNITS)
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    rows = (await conn.execute(text(prefix + sql))).all()
    return "\n".join(str(row[-1]) for row in rows)


async def test_low_stock_view_of_20000_variants_is_one_indexed_query(api: Api, db: Database) -> None:
    location = (await api.locations())["STORE"]
    product_rows, balance_rows, config_rows = build_rows(api.org, location)

    async def load(conn: AsyncConnection) -> None:
        await conn.execute(products.insert(), product_rows)
        await conn.execute(balances.insert(), balance_rows)
        await conn.execute(low_stock_levels.insert(), config_rows)
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE balances"))
            await conn.execute(text("ANALYZE low_stock_levels"))
            await conn.execute(text("ANALYZE products"))

    await db.write(load)
    expected = expected_low(product_rows, balance_rows, config_rows)
    assert 1000 < len(expected) < len(config_rows)  # the data exercises both sides of every rule

    response = await api.get(f"/organizations/self/inventory/locations/{location}/low-stock")
    assert response.status_code == 200
    body = response.json()
    got = [(v["productUuid"], v["variantUuid"], round(float(v["balance"]) * 1000)) for v in body["variants"]]
    assert got == expected
    assert len(body["trackedProducts"]) == PRODUCTS - PRODUCTS // 20

    async def plan(conn: AsyncConnection) -> str:
        return await query_plan(conn, api.org, location)

    text_plan = await db.read(plan)
    if db.dialect == "sqlite":
        # The configurations are range-scanned through the index, in answer order (no sort step);
        # balances and products are looked up by primary key, never scanned.
        assert "ix_low_stock_levels_alerted" in text_plan, text_plan
        assert "TEMP B-TREE" not in text_plan, text_plan
        assert "SCAN balances" not in text_plan and "SCAN products" not in text_plan, text_plan
    else:
        # With one location holding nearly the whole table, PostgreSQL rightly prefers hash joins
        # over full scans; what must hold is that the index can serve the query when the table
        # holds many locations, so the plan is taken with sequential scans priced out.
        async def indexed_plan(conn: AsyncConnection) -> str:
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            return await query_plan(conn, api.org, location)

        text_plan = await db.read(indexed_plan)
        assert "ix_low_stock_levels_alerted" in text_plan, text_plan
