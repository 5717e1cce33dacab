"""The low-stock store over more rows than one statement carries: chunked upserts, deletes and lookups."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.low_stock import LowStockConfig
from stockledger.domain.movements import BalanceKey
from stockledger.store import low_stock
from stockledger.store.db import Database
from tests.conftest import new_uuid

ROWS = low_stock.KEYS_PER_STATEMENT + 1000  # more than one chunk of every kind


async def test_save_lookup_and_remove_span_several_statements(db: Database) -> None:
    org, location, product = new_uuid(), new_uuid(), new_uuid()
    variants = sorted(new_uuid() for _ in range(ROWS))
    configs: dict[BalanceKey, LowStockConfig] = {
        (location, product, v): LowStockConfig(product, v, i, i % 2 == 0) for i, v in enumerate(variants)
    }

    async def save(conn: AsyncConnection) -> None:
        await low_stock.save(conn, org, configs, 0)

    await db.write(save)

    async def read(conn: AsyncConnection) -> tuple[list[LowStockConfig], dict[BalanceKey, int | None]]:
        stored = await low_stock.in_location(conn, org, location)
        alerted = await low_stock.alerted_among(conn, org, configs)
        return stored, alerted

    stored, alerted = await db.read(read)
    assert stored == list(configs.values())
    assert alerted == {k: c.level_units for k, c in configs.items() if c.alert}

    async def remove(conn: AsyncConnection) -> None:
        await low_stock.remove(conn, org, list(configs)[1:])

    await db.write(remove)
    stored, _ = await db.read(read)
    assert stored == [configs[(location, product, variants[0])]]
