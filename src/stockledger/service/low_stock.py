"""Low-stock use cases (spec §6): configuration writes and reads (the old API's replacing writes and
Inventory v3's partial ones), the low-stock view, and the InventoryLowStock event raised inside the
movement transaction (spec §7)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.changes import BalanceKey
from stockledger.domain.errors import not_tracked
from stockledger.domain.locations import Location
from stockledger.domain.low_stock_rules import (
    LOW_STOCK_EVENT,
    LowStockConfig,
    crossed_low,
    effective_level,
    inventory_low_stock,
)
from stockledger.domain.quantity import format_units
from stockledger.service import organizations
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, records, resolve_location
from stockledger.service.results import LocationInventory
from stockledger.store import locations, low_stock_levels, orgs, outbox, products
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import WriteClaim


@dataclass(frozen=True)
class ConfigRequest:
    """One entry of a PUT or batch POST; `location_uuid` overrides the path's location when given."""

    product_uuid: str
    variant_uuid: str
    level_units: int | None
    alert: bool
    path: str = ""
    location_uuid: str | None = None


@dataclass(frozen=True)
class ConfigPatch:
    """One entry of `POST /v3/custom-low-stock`: what it names changes, what it omits stays.
    `level_given` with `level_units` None removes the level; `alert` None leaves the alert as is."""

    location_uuid: str
    product_uuid: str
    variant_uuid: str
    level_given: bool
    level_units: int | None
    alert: bool | None
    path: str = ""


@dataclass(frozen=True)
class VariantRef:
    """One entry of a batch delete."""

    product_uuid: str
    variant_uuid: str
    path: str = ""
    location_uuid: str | None = None


@dataclass(frozen=True)
class LocationConfigs:
    organization_uuid: str
    location_uuid: str
    configs: list[LowStockConfig]


def _resolve(all_locations: list[Location], path_location: str) -> Location:
    return resolve_location(all_locations, LocationRef(uuid=path_location), in_path=True)


def _entry_location(all_locations: list[Location], default: Location, uuid: str | None, path: str) -> str:
    if uuid is None:
        return default.uuid
    ref = LocationRef(uuid=uuid, uuid_path=f"{path}.locationUuid" if path else "locationUuid")
    return resolve_location(all_locations, ref, in_path=False).uuid


async def save(
    db: Database,
    actor: Actor,
    path_location: str,
    entries: list[ConfigRequest],
    claim: WriteClaim | None = None,
) -> None:
    """PUT / batch POST: every entry applies, in order (last one wins per variant), or none does."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> None:
        # The organization lock orders configuration writes with movements, whose crossing check
        # reads these rows.
        await orgs.lock(conn, actor.org)
        all_locations = await locations.list_all(conn, actor.org)
        location = _resolve(all_locations, path_location)
        configs: dict[BalanceKey, LowStockConfig] = {}
        for entry in entries:
            where = _entry_location(all_locations, location, entry.location_uuid, entry.path)
            configs[(where, entry.product_uuid, entry.variant_uuid)] = LowStockConfig(
                entry.product_uuid, entry.variant_uuid, entry.level_units, entry.alert
            )
        await low_stock_levels.save(conn, actor.org, configs, now_ms())

    await db.write(work, claim=claim)


async def patch(
    db: Database, actor: Actor, entries: list[ConfigPatch], claim: WriteClaim | None = None
) -> None:
    """Inventory v3's write: each entry changes the fields it names of one variant's configuration in
    one location, in order, all of them or none. Unknown location → 400 on `<path>.inventoryUuid`;
    a product not tracked → 400 PRODUCT_NOT_TRACKED on `<path>.productUuid` (v3 shows the setting
    only in stock rows, which list tracked products only). A result equal to the defaults is deleted."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> None:
        await orgs.lock(conn, actor.org)  # ordered with movements, as in `save`
        all_locations = await locations.list_all(conn, actor.org)
        keys: list[BalanceKey] = []
        for entry in entries:
            ref = LocationRef(uuid=entry.location_uuid, uuid_path=f"{entry.path}.inventoryUuid")
            location = resolve_location(all_locations, ref, in_path=False)
            keys.append((location.uuid, entry.product_uuid, entry.variant_uuid))
        tracked = await products.tracked_among(conn, actor.org, {e.product_uuid for e in entries})
        for entry in entries:
            if entry.product_uuid not in tracked:
                raise not_tracked(entry.product_uuid, f"{entry.path}.productUuid")
        configs = await low_stock_levels.configs_of(conn, actor.org, keys)
        for key, entry in zip(keys, entries, strict=True):
            cfg = configs.get(key) or LowStockConfig(entry.product_uuid, entry.variant_uuid, None, False)
            if entry.level_given:
                cfg = replace(cfg, level_units=entry.level_units)
            if entry.alert is not None:
                cfg = replace(cfg, alert=entry.alert)
            configs[key] = cfg
        changed = {key: configs[key] for key in keys}
        await low_stock_levels.save(conn, actor.org, changed, now_ms())

    await db.write(work, claim=claim)


async def remove(
    db: Database, actor: Actor, path_location: str, entries: list[VariantRef], claim: WriteClaim | None = None
) -> None:
    """DELETE one / batch delete: back to the defaults (no row); nothing stored is not an error."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> None:
        await orgs.lock(conn, actor.org)
        all_locations = await locations.list_all(conn, actor.org)
        location = _resolve(all_locations, path_location)
        keys = [
            (
                _entry_location(all_locations, location, e.location_uuid, e.path),
                e.product_uuid,
                e.variant_uuid,
            )
            for e in entries
        ]
        await low_stock_levels.remove(conn, actor.org, keys)

    await db.write(work, claim=claim)


async def location_configs(
    db: Database, actor: Actor, path_location: str, product_uuid: str | None = None
) -> LocationConfigs:
    """The stored configurations of a location (or of one product in it); unknown location → 404."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> LocationConfigs:
        location = _resolve(await locations.list_all(conn, actor.org), path_location)
        found = await low_stock_levels.in_location(conn, actor.org, location.uuid, product_uuid)
        return LocationConfigs(actor.org, location.uuid, found)

    return await db.read(work)


async def low_stock_view(
    db: Database, actor: Actor, path_location: str, *, default_units: int
) -> LocationInventory:
    """The location-inventory shape restricted to alerted variants at or below their level
    (`default_units`: the level of an alert without one of its own, in thousandths)."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> LocationInventory:
        latest = await orgs.latest_seq(conn, actor.org)
        location = _resolve(await locations.list_all(conn, actor.org), path_location)
        tracked = await products.all_tracked(conn, actor.org)
        rows = await low_stock_levels.low_in_location(conn, actor.org, location.uuid, default_units)
        return LocationInventory(location.uuid, tracked, records(location, rows), latest)

    return await db.read(work)


async def alerts_for(
    conn: AsyncConnection, org: str, changes: Iterable[dict[BalanceKey, tuple[int, int]]]
) -> dict[BalanceKey, int | None]:
    """The alerted balances among those one or several requests moved, in one read (for `crossings`)."""
    moved = {key for changed in changes for key in _moved(changed)}
    return await low_stock_levels.alerted_among(conn, org, moved) if moved else {}


def crossings(
    actor: Actor,
    changed: dict[BalanceKey, tuple[int, int]],
    alerted: dict[BalanceKey, int | None],
    at_ms: int,
    default_units: int,
) -> list[outbox.Event]:
    """InventoryLowStock events of one request's `changed` balances ((before, after) units), given the
    alerted balances (stored level or None, then `default_units`) among them or more: one per alerted
    balance that went from above its level to at or below it (spec §7)."""
    moved = _moved(changed)
    found = []
    for key in sorted(k for k in moved if k in alerted):
        before, after = moved[key]
        level = effective_level(alerted[key], default_units)
        if not crossed_low(before, after, level, True):
            continue
        location, product, variant = key
        payload = inventory_low_stock(
            actor.org, location, product, variant, format_units(after), level, actor.change_info(at_ms)
        )
        found.append(outbox.event(LOW_STOCK_EVENT, payload))
    return found


def _moved(changed: dict[BalanceKey, tuple[int, int]]) -> dict[BalanceKey, tuple[int, int]]:
    return {key: units for key, units in changed.items() if units[0] != units[1]}
