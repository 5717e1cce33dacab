"""Reading balances: location inventories, product balances and the list of locations (spec §4, §5)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.errors import Violation, not_found, not_tracked, validation_error
from stockledger.domain.locations import Location
from stockledger.service import organizations
from stockledger.service.context import Actor
from stockledger.service.results import BalanceRecord, LocationBalances, LocationInventory
from stockledger.store import balances, locations, orgs, products
from stockledger.store.db import Database


@dataclass(frozen=True)
class Since:
    """`since` as a previous `latest` (seq) or as an instant (epoch milliseconds)."""

    seq: int | None = None
    ms: int | None = None


@dataclass(frozen=True)
class LocationRef:
    """Which location a read is about: by UUID, by type, or (neither) the default STORE."""

    uuid: str | None = None
    type: str | None = None
    uuid_path: str = "locationUuid"


def resolve_location(all_locations: list[Location], ref: LocationRef, *, in_path: bool) -> Location:
    """Find the referenced location; unknown → 404 when it came in the URL path, 400 in a body."""
    if ref.uuid is not None:
        for location in all_locations:
            if location.uuid == ref.uuid:
                return location
        if in_path:
            raise not_found(f"Location {ref.uuid} not found")
        raise validation_error([Violation(ref.uuid_path, "unknown location")])
    if ref.type is not None:
        found = locations.by_type(all_locations, ref.type)
        if found is None:  # pragma: no cover - every organization has the four system types
            raise not_found(f"No location of type {ref.type}")
        return found
    return locations.default_store(all_locations)


def records(location: Location, rows: list[balances.BalanceRow]) -> list[BalanceRecord]:
    return [
        BalanceRecord(location.uuid, location.type, r.product_uuid, r.variant_uuid, r.units) for r in rows
    ]


async def list_locations(db: Database, actor: Actor) -> list[Location]:
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> list[Location]:
        return await locations.list_all(conn, actor.org)

    return await db.read(work)


async def location_inventory(
    db: Database,
    actor: Actor,
    ref: LocationRef,
    *,
    in_path: bool = True,
    product_filter: list[str] | None = None,
    since: Since | None = None,
) -> LocationInventory:
    """The location-inventory shape; `trackedProducts` stays complete whatever `since` filters out."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> LocationInventory:
        # `latest` is read before the balances: a change committed in between is listed now and
        # again after `since=latest` (harmless), never missed.
        latest = await orgs.latest_seq(conn, actor.org)
        location = resolve_location(await locations.list_all(conn, actor.org), ref, in_path=in_path)
        if product_filter is None:
            tracked = await products.all_tracked(conn, actor.org)
        else:
            tracked = sorted(await products.tracked_among(conn, actor.org, product_filter))
        rows = await balances.in_location(
            conn,
            actor.org,
            location.uuid,
            product_filter=None if product_filter is None else tracked,
            since_seq=since.seq if since else None,
            since_ms=since.ms if since else None,
        )
        return LocationInventory(location.uuid, tracked, records(location, rows), latest)

    return await db.read(work)


async def product_balances(
    db: Database, actor: Actor, location_uuid: str, product_uuid: str
) -> LocationBalances:
    """Balances of one tracked product in one location; untracked → PRODUCT_NOT_TRACKED."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> LocationBalances:
        location = resolve_location(
            await locations.list_all(conn, actor.org), LocationRef(uuid=location_uuid), in_path=True
        )
        if not await products.tracked_among(conn, actor.org, [product_uuid]):
            raise not_tracked(product_uuid)
        rows = await balances.in_location(conn, actor.org, location.uuid, product_filter=[product_uuid])
        return LocationBalances(location.uuid, records(location, rows))

    return await db.read(work)
