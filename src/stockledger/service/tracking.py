"""Starting and stopping tracking of a product (spec §1, §5)."""

from __future__ import annotations

from sqlalchemy import update

from stockledger.domain import event_payloads
from stockledger.domain.errors import not_tracked
from stockledger.service import organizations
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
