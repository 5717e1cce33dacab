"""The low-stock store over more rows than one statement carries: chunked upserts, deletes and lookups."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.changes import BalanceKey
from stockledger.domain.low_stock_rules import LowStockConfig
from stockledger.store import low_stock_levels
from stockledger.store.db import Database
from tests.conftest import new_uuid

ROWS = low_stock_levels.KEYS_PER_STATEMENT + 1000  # more than one chunk of every kind


async def test_save_lookup_and_remove_span_several_statements(db: Database) -> None:
    org, location, product = new_uuid(), new_uuid(), new_uuid()
    variants = sorted(new_uuid() for _ in range(ROWS))
    configs: dict[BalanceKey, LowStockConfig] = {
        (location, product, v): LowStockConfig(product, v, i, i % 2 == 0) for i, v in enumerate(variants)
    }

    async def save(conn: AsyncConnection) -> None:
        await low_stock_levels.save(conn, org, configs, 0)

    await db.write(save)

    async def read(conn: AsyncConnection) -> tuple[list[LowStockConfig], dict[BalanceKey, int | None]]:
        stored = await low_stock_levels.in_location(conn, org, location)
        alerted = await low_stock_levels.alerted_among(conn, org, configs)
        return stored, alerted

    stored, alerted = await db.read(read)
    assert stored == list(configs.values())
    assert alerted == {k: c.level_units for k, c in configs.items() if c.alert}

    async def remove(conn: AsyncConnection) -> None:
        await low_stock_levels.remove(conn, org, list(configs)[1:])

    await db.write(remove)
    stored, _ = await db.read(read)
    assert stored == [configs[(location, product, variants[0])]]
