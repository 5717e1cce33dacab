"""Several stores (spec §8): creating STORE locations, renaming them, choosing the default one."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.ids import new_location_uuid
from stockledger.domain.locations import Location, LocationType, is_type_name
from stockledger.service import organizations
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, resolve_location
from stockledger.store import locations, orgs
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.tables import locations as locations_table
from stockledger.store.unit_of_work import WriteClaim


def _refuse_type_name(name: str) -> None:
    if is_type_name(name):
        raise validation_error(
            [Violation("name", "must not be a location type (STORE, SOLD, BIN or SUPPLIER, in any case)")]
        )


async def create_store(
    db: Database, actor: Actor, *, name: str, description: str | None, claim: WriteClaim | None = None
) -> Location:
    """A new STORE location (version-1 UUID); it is not the default until made so. Serves the old
    API's extension and `POST /v3/inventories` alike. A name equal to a location type is refused."""
    _refuse_type_name(name)
    await organizations.ensure(db, actor.org)
    location = Location(new_location_uuid(), LocationType.STORE.value, name, description, False, False)

    async def work(conn: AsyncConnection) -> Location:
        await orgs.lock(conn, actor.org)
        await conn.execute(
            locations_table.insert().values(
                org_uuid=actor.org,
                uuid=location.uuid,
                type=location.type,
                name=location.name,
                description=location.description,
                is_default=False,
                is_system=False,
                created_ms=now_ms(),
            )
        )
        return location

    return await db.write(work, claim=claim)


async def update_store(
    db: Database,
    actor: Actor,
    location_uuid: str,
    *,
    name: str | None,
    description: str | None,
    description_given: bool,
    make_default: bool | None,
    claim: WriteClaim | None = None,
) -> Location:
    """Rename / describe a STORE-type location, or make it the default (exactly one default at a time).
    A new name equal to a location type is refused (see `create_store`)."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> Location:
        await orgs.lock(conn, actor.org)
        location = resolve_location(
            await locations.list_all(conn, actor.org), LocationRef(uuid=location_uuid), in_path=True
        )
        if location.type != LocationType.STORE:
            raise validation_error(
                [Violation("uuid", f"the system {location.type} location cannot be changed")]
            )
        if make_default is False and location.is_default:
            raise validation_error([Violation("default", "make another store the default instead")])
        values: dict[str, object] = {}
        if name is not None and name != location.name:
            _refuse_type_name(name)  # the system STORE keeps its own name "STORE"
            values["name"] = name
        if description_given:
            values["description"] = description
        if make_default and not location.is_default:
            # The organization lock serialises this swap, so there is never zero or two defaults.
            await conn.execute(
                update(locations_table)
                .where(locations_table.c.org_uuid == actor.org, locations_table.c.is_default.is_(True))
                .values(is_default=False)
            )
            values["is_default"] = True
        if values:
            await conn.execute(
                update(locations_table)
                .where(locations_table.c.org_uuid == actor.org, locations_table.c.uuid == location.uuid)
                .values(**values)
            )
        updated = await locations.by_uuid(conn, actor.org, location.uuid)
        assert updated is not None
        return updated

    return await db.write(work, claim=claim)
