"""Checks shared by the reliability tests: the ledger invariant and per-request atomicity."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import balances, movements


async def ledger_sums(
    db: Database, org: str
) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str], int]]:
    """(balance table, signed ledger sums) per (location, product, variant), in thousandths."""

    async def work(
        conn: AsyncConnection,
    ) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str], int]]:
        table = {
            (r.location_uuid, r.product_uuid, r.variant_uuid): int(r.units)
            for r in (await conn.execute(select(balances).where(balances.c.org_uuid == org))).all()
        }
        sums: dict[tuple[str, str, str], int] = defaultdict(int)
        for r in (await conn.execute(select(movements).where(movements.c.org_uuid == org))).all():
            sums[(r.from_location_uuid, r.product_uuid, r.variant_uuid)] -= int(r.units)
            sums[(r.to_location_uuid, r.product_uuid, r.variant_uuid)] += int(r.units)
        return table, dict(sums)

    return await db.read(work)


async def movements_per_external_uuid(db: Database, org: str) -> Counter[str]:
    async def work(conn: AsyncConnection) -> Counter[str]:
        rows = await conn.execute(select(movements.c.external_uuid).where(movements.c.org_uuid == org))
        return Counter(r[0] for r in rows.all())

    return await db.read(work)


async def assert_ledger_invariant(db: Database, org: str) -> None:
    table, sums = await ledger_sums(db, org)
    assert set(table) == set(sums), "every balance row has movements and vice versa"
    for key, units in table.items():
        assert units == sums[key], f"balance {key} is {units} but its ledger sums to {sums[key]}"
