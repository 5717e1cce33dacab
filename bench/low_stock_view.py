"""Benchmark: the low-stock view of one location with 100,000 configured variants.

Usage: python bench/low_stock_view.py [DATABASE_URL] [VARIANTS]
(default: a fresh SQLite file in a temporary directory, 100,000 variants). The database is migrated
and filled directly with SQL; the view's query is then timed over a few runs.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.config import Settings
from stockledger.domain.low_stock_rules import default_level_units
from stockledger.store import orgs
from stockledger.store.db import Database
from stockledger.store.low_stock_levels import low_in_location
from stockledger.store.migrate import upgrade
from stockledger.store.tables import balances, low_stock_levels, products

RUNS = 5
VARIANTS_PER_PRODUCT = 50


async def main(url: str, variants: int) -> None:
    await upgrade(url)
    db = Database(url)
    org = str(uuid.uuid4())

    async def create(conn: AsyncConnection) -> None:
        await orgs.create_if_missing(conn, org)

    await db.write(create)
    location = str(uuid.uuid4())
    product_rows, balance_rows, config_rows = [], [], []
    for n in range(variants):
        product = str(uuid.UUID(int=n // VARIANTS_PER_PRODUCT + 1))
        if n % VARIANTS_PER_PRODUCT == 0:
            product_rows.append({"org_uuid": org, "product_uuid": product, "tracked": True, "updated_ms": 0})
        key = {
            "org_uuid": org,
            "location_uuid": location,
            "product_uuid": product,
            "variant_uuid": str(uuid.uuid4()),
        }
        balance_rows.append({**key, "units": (n % 20) * 1000, "seq": 1, "updated_ms": 0})
        config_rows.append({**key, "level_units": (n % 7) * 1000, "alert": n % 3 != 0, "updated_ms": 0})

    async def load(conn: AsyncConnection) -> None:
        for table, rows in (
            (products, product_rows),
            (balances, balance_rows),
            (low_stock_levels, config_rows),
        ):
            for start in range(0, len(rows), 5000):
                await conn.execute(table.insert(), rows[start : start + 5000])
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE"))

    started = time.perf_counter()
    await db.write(load)
    print(f"loaded {variants} variants in {time.perf_counter() - started:.1f} s")

    async def query(conn: AsyncConnection) -> int:
        return len(await low_in_location(conn, org, location, default_level_units(5)))

    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        found = await db.read(query)
        timings.append(time.perf_counter() - started)
    print(f"{db.dialect}: {found} low of {variants}; median {statistics.median(timings) * 1000:.0f} ms")
    await db.dispose()


if __name__ == "__main__":
    default_url = Settings(data_dir=Path(tempfile.mkdtemp())).effective_database_url()
    target = (
        Settings(database_url=sys.argv[1]).effective_database_url()
        if len(sys.argv) > 1 and sys.argv[1]
        else default_url
    )
    asyncio.run(main(target, int(sys.argv[2]) if len(sys.argv) > 2 else 100_000))
