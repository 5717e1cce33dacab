"""Benchmark: the back office's stock page over 100,000 variants (SQLite or PostgreSQL).

Usage: python bench/backoffice_stock_page.py [DATABASE_URL]   (default: a temp SQLite file)
Prints the median time of each page query (first and last page of each order, two searches) and of
what the page adds to it: the total count, the rows before the page and where the previous page starts.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.config import Settings
from stockledger.domain.products import new_etag
from stockledger.store import orgs, ui_paging, ui_queries
from stockledger.store.catalog import sort_key
from stockledger.store.db import Database
from stockledger.store.locations import default_store, list_all
from stockledger.store.migrate import upgrade
from stockledger.store.tables import balances, catalog_products, catalog_variants, products

VARIANTS = 100_000
VARIANTS_PER_PRODUCT = 4
REPEATS = 7


async def seed(db: Database, org: str) -> str:
    async def create(conn: AsyncConnection) -> str:
        await orgs.create_if_missing(conn, org)
        return default_store(await list_all(conn, org)).uuid

    store = await db.write(create)
    product_ids = [str(uuid.uuid4()) for _ in range(VARIANTS // VARIANTS_PER_PRODUCT)]

    async def fill(conn: AsyncConnection) -> None:
        await conn.execute(
            products.insert(),
            [{"org_uuid": org, "product_uuid": p, "tracked": True, "updated_ms": 0} for p in product_ids],
        )
        await conn.execute(
            catalog_products.insert(),
            [
                {
                    "org_uuid": org,
                    "product_uuid": p,
                    "name": f"Product {i:06d}",
                    "updated_ms": 0,
                    "created_ms": i,
                    "etag": new_etag(),
                }  # fmt: skip
                for i, p in enumerate(product_ids)
            ],
        )
        rows, names = [], []
        for i, p in enumerate(product_ids):
            for j in range(VARIANTS_PER_PRODUCT):
                v = str(uuid.uuid4())
                rows.append({"org_uuid": org, "location_uuid": store, "product_uuid": p, "variant_uuid": v,
                             "units": (i * 7 + j) % 500 * 1000, "seq": 1, "updated_ms": 0})  # fmt: skip
                names.append({"org_uuid": org, "product_uuid": p, "variant_uuid": v, "name": f"V{j}",
                              "sku": f"SKU-{i:06d}-{j}", "barcode": None, "updated_ms": 0, "position": j,
                              "sort_key": sort_key(f"Product {i:06d}", f"V{j}")})  # fmt: skip
        for start in range(0, len(rows), 5000):
            await conn.execute(balances.insert(), rows[start : start + 5000])
            await conn.execute(catalog_variants.insert(), names[start : start + 5000])

    await db.write(fill)

    async def analyze(conn: AsyncConnection) -> None:
        # Autovacuum would do this shortly after a bulk load; the benchmark should not wait for it.
        await conn.execute(text("ANALYZE"))

    await db.write(analyze)
    return store


async def main(url: str) -> None:
    await upgrade(url)
    db = Database(url)
    org = str(uuid.uuid4())
    store = await seed(db, org)
    last = f"product {VARIANTS // VARIANTS_PER_PRODUCT - 1:06d}"
    cases: dict[str, dict[str, object]] = {
        "name, first page": {"sort": "name"},
        "name, last page": {"sort": "name", "cursor": ("n", last, "", "")},
        "balance desc, first page": {"sort": "-balance"},
        "balance, last page": {"sort": "balance", "cursor": ("b", 499_000, "", "")},
        "search by name": {"sort": "name", "query": "product 02100"},
        "search by sku prefix": {"sort": "name", "query": "sku-012345"},
    }
    print(f"{VARIANTS} variants on {db.dialect}; median of {REPEATS} runs, page of 50")
    for label, args in cases.items():
        timings = []
        for _ in range(REPEATS):

            async def read(conn: AsyncConnection, args: dict[str, object] = args) -> int:
                page = await ui_queries.stock_page(conn, org, store, limit=50, **args)  # type: ignore[arg-type]
                return len(page.rows)

            started = time.perf_counter()
            count = await db.read(read)
            timings.append(time.perf_counter() - started)
        print(f"  {label:28s} {statistics.median(timings) * 1000:8.1f} ms  ({count} rows)")
    print("the page's position: total count + rows before + previous page's cursor")
    for label, args in cases.items():
        timings = []
        for _ in range(REPEATS):

            async def place(conn: AsyncConnection, args: dict[str, object] = args) -> int:
                sort, cursor, query = args["sort"], args.get("cursor"), str(args.get("query", ""))
                total = await ui_paging.stock_count(conn, org, store, query=query)
                where = {"sort": sort, "cursor": cursor, "query": query}
                await ui_paging.rows_before(conn, org, store, **where)  # type: ignore[arg-type]
                await ui_paging.previous_cursor(conn, org, store, limit=50, **where)  # type: ignore[arg-type]
                return total

            started = time.perf_counter()
            count = await db.read(place)
            timings.append(time.perf_counter() - started)
        print(f"  {label:28s} {statistics.median(timings) * 1000:8.1f} ms  (of {count} rows)")
    await db.dispose()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        target = Settings(database_url=sys.argv[1]).effective_database_url()
        asyncio.run(main(target))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(main(f"sqlite+aiosqlite:///{tmp}/bench.db"))
