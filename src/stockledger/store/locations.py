"""Locations of an organization."""

from __future__ import annotations

from sqlalchemy import bindparam, case, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.locations import Location
from stockledger.store.tables import locations

# How locations are listed: the default STORE first, then by type in this order (others last).
TYPE_RANK = {"STORE": 0, "SOLD": 1, "BIN": 2, "SUPPLIER": 3}
_TYPE_ORDER = case(TYPE_RANK, value=locations.c.type, else_=len(TYPE_RANK))


_LIST_ALL = (
    select(
        locations.c.uuid,
        locations.c.type,
        locations.c.name,
        locations.c.description,
        locations.c.is_default,
        locations.c.is_system,
    )
    .where(locations.c.org_uuid == bindparam("org"))
    .order_by(locations.c.is_default.desc(), _TYPE_ORDER, locations.c.created_ms, locations.c.uuid)
)


async def list_all(conn: AsyncConnection, org: str) -> list[Location]:
    """All locations, the default STORE first, then other stores, then SOLD, BIN, SUPPLIER."""
    return [Location(*row) for row in (await conn.execute(_LIST_ALL, {"org": org})).all()]


async def by_uuid(conn: AsyncConnection, org: str, location_uuid: str) -> Location | None:
    for location in await list_all(conn, org):
        if location.uuid == location_uuid:
            return location
    return None


def default_store(all_locations: list[Location]) -> Location:
    for location in all_locations:
        if location.is_default:
            return location
    raise AssertionError("an organization always has a default STORE")


def by_type(all_locations: list[Location], kind: str) -> Location | None:
    """The location of that type; for STORE the default store."""
    if kind == "STORE":
        return default_store(all_locations)
    return next((loc for loc in all_locations if loc.type == kind), None)
