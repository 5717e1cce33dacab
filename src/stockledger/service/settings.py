"""Organization settings (spec §8): the negative-stock policy and the check that enforces it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.errors import ServiceError, Violation
from stockledger.domain.locations import Location, LocationType
from stockledger.domain.movements import BalanceKey, Change, Source
from stockledger.domain.quantity import format_units
from stockledger.service import organizations
from stockledger.service.context import Actor
from stockledger.store import orgs
from stockledger.store.db import Database
from stockledger.store.tables import organizations as organizations_table

# Sales that already happened at the point of sale are recorded whatever the policy says.
ALWAYS_RECORDED = frozenset({Source.PURCHASE})


@dataclass(frozen=True)
class OrgSettings:
    allow_negative_stock: bool


async def get(db: Database, actor: Actor) -> OrgSettings:
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> OrgSettings:
        return OrgSettings(await orgs.allows_negative_stock(conn, actor.org))

    return await db.read(work)


async def put(db: Database, actor: Actor, *, allow_negative_stock: bool) -> OrgSettings:
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> OrgSettings:
        await orgs.lock(conn, actor.org)
        await conn.execute(
            update(organizations_table)
            .where(organizations_table.c.uuid == actor.org)
            .values(allow_negative_stock=allow_negative_stock)
        )
        return OrgSettings(allow_negative_stock)

    return await db.write(work)


async def check_negative_stock(
    conn: AsyncConnection,
    org: str,
    changes: list[Change],
    changed: dict[BalanceKey, tuple[int, int]],
    all_locations: list[Location],
    source: str,
) -> None:
    """Under `allowNegativeStock: false`, refuse a request that lowers a STORE-type balance below zero.

    Called after the balances were updated, inside the request's transaction: raising rolls it all
    back. A balance that was already negative may still be raised (e.g. a restock that leaves it at -1).
    """
    if source in ALWAYS_RECORDED:
        return
    stores = {loc.uuid for loc in all_locations if loc.type == LocationType.STORE}
    offending = [
        (key, after)
        for key, (before, after) in changed.items()
        if key[0] in stores and after < 0 and after < before
    ]
    if not offending or await orgs.allows_negative_stock(conn, org):
        return
    violations = []
    for (location, product, variant), after in offending:
        path = next(
            (
                c.path
                for c in changes
                if c.from_location == location and c.product_uuid == product and c.variant_uuid == variant
            ),
            "",
        )
        violations.append(
            Violation(
                path or "variantUuid",
                f"would leave variant {variant} of product {product} at {format_units(after)} "
                f"in location {location}",
            )
        )
    first = violations[0]
    raise ServiceError(
        f"Insufficient stock: {first.property_name} {first.message}", 409, "INSUFFICIENT_STOCK", violations
    )
