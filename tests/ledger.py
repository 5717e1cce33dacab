"""Direct reads of the tables, for tests that check the ledger invariant and "no trace" rules."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import balances, locations, movements, organizations, outbox

Key = tuple[str, str, str]  # (location, product, variant)


@dataclass(frozen=True)
class Snapshot:
    """Everything a write may touch for one organization."""

    balances: dict[Key, int]
    movement_count: int
    outbox_count: int
    seq: int


async def snapshot(db: Database, org: str) -> Snapshot:
    async def work(conn: AsyncConnection) -> Snapshot:
        rows = (
            await conn.execute(
                select(
                    balances.c.location_uuid,
                    balances.c.product_uuid,
                    balances.c.variant_uuid,
                    balances.c.units,
                ).where(balances.c.org_uuid == org)
            )
        ).all()
        moves = await conn.scalar(
            select(func.count()).select_from(movements).where(movements.c.org_uuid == org)
        )
        events = await conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.org_uuid == org))
        seq = await conn.scalar(select(organizations.c.seq).where(organizations.c.uuid == org))
        return Snapshot(
            {(r[0], r[1], r[2]): int(r[3]) for r in rows}, int(moves or 0), int(events or 0), int(seq or 0)
        )

    return await db.read(work)


async def ledger_sums(db: Database, org: str) -> dict[Key, int]:
    """The signed sum of the movements into and out of every (location, variant): the ledger's truth."""

    async def work(conn: AsyncConnection) -> dict[Key, int]:
        rows = (
            await conn.execute(
                select(
                    movements.c.product_uuid,
                    movements.c.variant_uuid,
                    movements.c.from_location_uuid,
                    movements.c.to_location_uuid,
                    movements.c.units,
                ).where(movements.c.org_uuid == org)
            )
        ).all()
        sums: dict[Key, int] = defaultdict(int)
        for product, variant, src, dst, units in rows:
            assert units > 0, "a movement always moves a positive quantity"
            sums[(src, product, variant)] -= int(units)
            sums[(dst, product, variant)] += int(units)
        return dict(sums)

    return await db.read(work)


async def assert_ledger_invariant(db: Database, org: str) -> Snapshot:
    """Every balance row equals the signed sum of its movements, and every moved key has a row."""
    snap = await snapshot(db, org)
    assert snap.balances == await ledger_sums(db, org)
    return snap


async def outbox_events(db: Database, org: str, event_name: str | None = None) -> list[str]:
    async def work(conn: AsyncConnection) -> list[str]:
        stmt = select(outbox.c.event_name).where(outbox.c.org_uuid == org).order_by(outbox.c.id)
        if event_name is not None:
            stmt = stmt.where(outbox.c.event_name == event_name)
        return [str(name) for name in (await conn.scalars(stmt)).all()]

    return await db.read(work)


async def location_rows(db: Database, org: str) -> int:
    async def work(conn: AsyncConnection) -> int:
        stmt = select(func.count()).select_from(locations).where(locations.c.org_uuid == org)
        return int(await conn.scalar(stmt) or 0)

    return await db.read(work)


async def movements_per_external_uuid(db: Database, org: str) -> Counter[str]:
    """How many ledger rows each externalUuid has (a request's changes share one)."""

    async def work(conn: AsyncConnection) -> Counter[str]:
        rows = await conn.execute(select(movements.c.external_uuid).where(movements.c.org_uuid == org))
        return Counter(r[0] for r in rows.all())

    return await db.read(work)
