"""Benchmark: the adjust form's variant picker (service/variant_search.py) over 100,000 variants.

Usage: python bench/backoffice_variant_picker.py [DATABASE_URL]   (default: a temp SQLite file)
Prints the median time of one picker answer: a name part, a SKU part, an exact SKU typed (type-ahead)
and entered (a scanner's Enter), a miss. A type-ahead answer is one read: the exact-code lookup
(indexed) and the library search (a scan of LIKE); a scanned code that names one variant skips the scan.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid

from bench.backoffice_stock_page import REPEATS, VARIANTS, seed
from stockledger.config import Settings
from stockledger.service.context import Actor
from stockledger.service.variant_search import search_variants
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade


async def main(url: str) -> None:
    await upgrade(url)
    db = Database(url)
    org = str(uuid.uuid4())
    await seed(db, org)
    actor = Actor(org, str(uuid.uuid4()))
    cases = {
        "name part": ("product 02100", False),
        "sku part": ("sku-01234", False),
        "exact sku, typed": ("SKU-012345-2", False),
        "exact sku, scan+Enter": ("SKU-012345-2", True),
        "no match": ("zzz-nothing", False),
    }
    print(f"{VARIANTS} variants on {db.dialect}; median of {REPEATS} runs")
    for label, (text, scanned) in cases.items():
        timings = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            found = await search_variants(db, actor, text, scanned=scanned)
            timings.append(time.perf_counter() - started)
        shown = f"{len(found.choices)} shown, {len(found.exact)} exact"
        print(f"  {label:22s} {statistics.median(timings) * 1000:8.1f} ms  ({shown})")
    await db.dispose()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        asyncio.run(main(Settings(database_url=sys.argv[1]).effective_database_url()))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(main(f"sqlite+aiosqlite:///{tmp}/bench.db"))
