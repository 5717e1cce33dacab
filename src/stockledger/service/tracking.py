"""Starting and stopping tracking of a product (spec §1, §5), one or many at a time, and reading
the tracking state (Inventory v3 §8)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain import event_payloads
from stockledger.domain.errors import Violation, not_tracked, validation_error
from stockledger.service import cursors, organizations
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, records, resolve_location
from stockledger.service.results import LocationBalances
from stockledger.store import balances, locations, orgs, outbox, products
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.tables import balances as balances_table
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim


async def set_tracking_locked(
    uow: UnitOfWork, actor: Actor, product_uuid: str, tracked: bool, at_ms: int
) -> bool:
    """Change the tracking state under the organization lock; emits the event when it changed.

    Starting again bumps the change sequence on the product's balances, so a client syncing with
    `since` sees the balances reappear.
    """
    conn = uow.conn
    if not await products.set_tracked(conn, actor.org, product_uuid, tracked):
        return False
    info = actor.change_info(at_ms)
    if tracked:
        seq = await orgs.allocate_seq(conn, actor.org, 1)
        await conn.execute(
            update(balances_table)
            .where(balances_table.c.org_uuid == actor.org, balances_table.c.product_uuid == product_uuid)
            .values(seq=seq, updated_ms=at_ms)
        )
        payload = event_payloads.inventory_tracking_started(actor.org, product_uuid, info)
        await outbox.append(uow, actor.org, "InventoryTrackingStarted", payload, at_ms)
    else:
        payload = event_payloads.inventory_tracking_stopped(actor.org, product_uuid, info)
        await outbox.append(uow, actor.org, "InventoryTrackingStopped", payload, at_ms)
    return True


async def start(
    db: Database, actor: Actor, product_uuid: str, claim: WriteClaim | None = None
) -> LocationBalances:
    """Start tracking; already tracked → the same answer, nothing changes, no event."""
    await organizations.ensure(db, actor.org)

    async def work(uow: UnitOfWork) -> LocationBalances:
        conn = uow.conn
        await orgs.lock(conn, actor.org)
        await set_tracking_locked(uow, actor, product_uuid, True, now_ms())
        store = resolve_location(await locations.list_all(conn, actor.org), LocationRef(), in_path=True)
        rows = await balances.in_location(conn, actor.org, store.uuid, product_filter=[product_uuid])
        return LocationBalances(store.uuid, records(store, rows))

    return await db.unit_of_work(work, claim=claim)


async def stop(db: Database, actor: Actor, product_uuid: str, claim: WriteClaim | None = None) -> None:
    """Stop tracking; balances are kept but hidden. Not tracked → PRODUCT_NOT_TRACKED."""
    await organizations.ensure(db, actor.org)

    async def work(uow: UnitOfWork) -> None:
        await orgs.lock(uow.conn, actor.org)
        if not await set_tracking_locked(uow, actor, product_uuid, False, now_ms()):
            raise not_tracked(product_uuid)

    await db.unit_of_work(work, claim=claim)


async def set_many(
    db: Database, actor: Actor, wanted: Iterable[tuple[str, bool]], claim: WriteClaim | None = None
) -> None:
    """Enable (True) or disable (False) tracking of several products in one transaction
    (`POST /v3/products`). A product named twice ends in its last state; only products whose state
    differs from the stored one change, each with one event. Already in the wanted state is no error."""
    final = dict(wanted)  # the last entry of a product wins; first-mention order is kept
    await organizations.ensure(db, actor.org)

    async def work(uow: UnitOfWork) -> None:
        await orgs.lock(uow.conn, actor.org)
        at_ms = now_ms()
        for product_uuid, tracked in final.items():
            await set_tracking_locked(uow, actor, product_uuid, tracked, at_ms)

    await db.unit_of_work(work, claim=claim)


async def tracked_among(db: Database, actor: Actor, product_uuids: Iterable[str]) -> set[str]:
    """Which of the given products are tracked (`POST /v3/products/status`)."""
    wanted = list(product_uuids)
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> set[str]:
        return await products.tracked_among(conn, actor.org, wanted)

    return await db.read(work)


@dataclass(frozen=True)
class TrackedPage:
    product_uuids: list[str]
    next_cursor: str | None


_TRACKED_CHECK = cursors.filters_check("tracked-products")


async def tracked_page(db: Database, actor: Actor, *, limit: int, cursor: str | None) -> TrackedPage:
    """One page of tracked products by UUID (`GET /v3/products`). Keyset on the UUID: a product
    whose tracking starts or stops while a client pages appears once or not at all, never twice."""
    after = None
    if cursor is not None:
        (position,) = cursors.decode(cursor, _TRACKED_CHECK, size=1)
        if not isinstance(position, str):
            raise validation_error([Violation("cursor", "is not a valid cursor")])
        after = position
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> list[str]:
        return await products.tracked_page(conn, actor.org, after=after, limit=limit + 1)

    found = await db.read(work)
    if len(found) <= limit:
        return TrackedPage(found, None)
    page = found[:limit]
    return TrackedPage(page, cursors.encode([page[-1]], _TRACKED_CHECK))
