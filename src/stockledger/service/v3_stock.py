"""Reading stock the Inventory API v3 way (v3 contract §5, §6): stock rows of one inventory or of every
STORE, in keyset pages with an opaque cursor, and the rows of chosen products.

The same balances and low-stock settings the old API reads: an inventory is a location. Rows come in
(inventory, product, variant) order; a cursor holds the last key a page returned, so following the
pages returns every row that exists throughout exactly once, whatever is written in between (a row
created behind the cursor is not seen by this pass, one created ahead of it is). Each page is one
short read transaction walking the balances' primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.errors import Violation, not_found, not_tracked, validation_error
from stockledger.domain.locations import Location, LocationType
from stockledger.domain.stock_rows import StockRecord
from stockledger.service import cursors, organizations
from stockledger.service.context import Actor
from stockledger.store import locations, products, stock_rows
from stockledger.store.db import Database

# Rows to show: runs of records of one inventory each, in answer order (the rules of what a row
# shows are domain/stock_rows.py's, applied as the API writes each row).
InventoryRecords = tuple[str, Sequence[StockRecord]]


@dataclass(frozen=True)
class StockPage:
    groups: list[InventoryRecords]
    next_cursor: str | None  # None on the last page


def _position(cursor: str | None, check: str, size: int) -> list[str] | None:
    if cursor is None:
        return None
    position = cursors.decode(cursor, check, size=size)
    if not all(isinstance(part, str) for part in position):
        raise validation_error([Violation("cursor", "is not a valid cursor")])
    return [str(part) for part in position]


async def _inventory(conn: AsyncConnection, org: str, inventory_uuid: str) -> Location:
    found = await locations.by_uuid(conn, org, inventory_uuid)
    if found is None:
        raise not_found(f"Inventory {inventory_uuid} not found")
    return found


async def inventory_page(
    db: Database, actor: Actor, inventory_uuid: str, *, limit: int, cursor: str | None
) -> StockPage:
    """A page of one inventory's rows (any type); unknown inventory → 404; a cursor of another list → 400."""
    check = cursors.filters_check("v3-stock", inventory_uuid)
    position = _position(cursor, check, 2)
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> Sequence[StockRecord]:
        after = (position[0], position[1]) if position else None
        found = await stock_rows.page(conn, actor.org, inventory_uuid, after=after, limit=limit + 1)
        if not found:
            # Balances exist only in the organization's own locations: a page with rows needs no
            # look-up of its inventory, an empty one tells "no rows (any more)" from "no such inventory".
            await _inventory(conn, actor.org, inventory_uuid)
        return found

    found = await db.read(work)
    next_cursor = None
    if len(found) > limit:
        last = found[limit - 1]
        next_cursor = cursors.encode([last[0], last[1]], check)
    return StockPage([(inventory_uuid, found[:limit])], next_cursor)


async def stores_page(db: Database, actor: Actor, *, limit: int, cursor: str | None) -> StockPage:
    """A page of the rows of every STORE inventory, ordered by inventory UUID, then product, variant.

    A page that ends one store's rows continues with the next store's in the same read; there are
    few stores, so that is rarely more than two statements."""
    check = cursors.filters_check("v3-stock", LocationType.STORE.value)
    position = _position(cursor, check, 3)
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> list[InventoryRecords]:
        all_locations = await locations.list_all(conn, actor.org)
        stores = sorted(loc.uuid for loc in all_locations if loc.type == LocationType.STORE.value)
        found: list[InventoryRecords] = []
        count = 0
        for store in stores:
            if position is not None and store < position[0]:
                continue
            after = (position[1], position[2]) if position is not None and store == position[0] else None
            records = await stock_rows.page(conn, actor.org, store, after=after, limit=limit + 1 - count)
            if records:
                found.append((store, records))
                count += len(records)
            if count > limit:
                break
        return found

    found = await db.read(work)
    next_cursor = None
    if sum(len(records) for _store, records in found) > limit:
        # One row too many was read, the last store's last: the page ends on the row before it.
        store, records = found[-1]
        if len(records) == 1:
            found.pop()
            store, records = found[-1]
        else:
            found[-1] = (store, records[:-1])
            records = records[:-1]
        next_cursor = cursors.encode([store, records[-1][0], records[-1][1]], check)
    return StockPage(found, next_cursor)


async def product_rows(
    db: Database, actor: Actor, inventory_uuid: str, product_uuid: str
) -> list[InventoryRecords]:
    """Every row of one tracked product in one inventory (any type); unknown inventory → 404;
    untracked product → 400 PRODUCT_NOT_TRACKED."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> Sequence[StockRecord]:
        location = await _inventory(conn, actor.org, inventory_uuid)
        if not await products.tracked_among(conn, actor.org, [product_uuid]):
            raise not_tracked(product_uuid)
        return await stock_rows.of_products(conn, actor.org, location.uuid, [product_uuid])

    return [(inventory_uuid, await db.read(work))]


async def products_rows(
    db: Database, actor: Actor, inventory_uuid: str, product_uuids: list[str]
) -> list[InventoryRecords]:
    """The rows of several products in one inventory, by product then variant; untracked products
    (and products without rows) are simply absent; unknown inventory → 404."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> Sequence[StockRecord]:
        location = await _inventory(conn, actor.org, inventory_uuid)
        if not product_uuids:
            return []
        return await stock_rows.of_products(conn, actor.org, location.uuid, product_uuids)

    return [(inventory_uuid, await db.read(work))]
