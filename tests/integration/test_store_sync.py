"""Incremental reads of a location's balances (`since`), as the store answers them on both backends."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store import balances, products
from stockledger.store.db import Database


async def test_since_lists_only_later_changes_of_tracked_products_in_product_variant_order(
    db: Database,
) -> None:
    org, location = str(uuid.uuid4()), str(uuid.uuid4())
    tracked = [str(uuid.UUID(int=n)) for n in (3, 1, 2)]
    untracked = str(uuid.UUID(int=9))
    # variant v of product p changed at seq 10*v + p
    keys = {
        (location, p, str(uuid.UUID(int=100 + v))): 10 * v + i
        for i, p in enumerate(tracked)
        for v in range(3)
    }
    keys[(location, untracked, str(uuid.UUID(int=200)))] = 99

    async def seed(conn: AsyncConnection) -> None:
        for product in tracked:
            await products.set_tracked(conn, org, product, True)
        for key, seq in keys.items():
            await balances.apply_deltas(conn, org, {key: 1000}, {key: seq}, 0)

    async def since(conn: AsyncConnection) -> list[balances.BalanceRow]:
        return await balances.in_location(conn, org, location, since_seq=11)

    async def everything(conn: AsyncConnection) -> list[balances.BalanceRow]:
        return await balances.in_location(conn, org, location)

    await db.write(seed)
    expected = sorted((k[1], k[2]) for k, seq in keys.items() if seq > 11 and k[1] != untracked)
    assert [(r.product_uuid, r.variant_uuid) for r in await db.read(since)] == expected
    assert len(await db.read(everything)) == 9
