"""The negative-stock policy lives in apply_locked: every source is checked except purchases."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.errors import ServiceError
from stockledger.domain.movements import Change, Source
from stockledger.service import settings
from stockledger.service.context import Actor
from stockledger.service.movements import apply_locked
from stockledger.store import locations, orgs
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from tests.conftest import Api, new_uuid


async def sell(db: Database, actor: Actor, source: Source) -> None:
    product, variant = new_uuid(), new_uuid()

    async def work(conn: AsyncConnection) -> None:
        await orgs.lock(conn, actor.org)
        all_locations = await locations.list_all(conn, actor.org)
        store = locations.default_store(all_locations)
        sold = locations.by_type(all_locations, "SOLD")
        assert sold is not None
        change = Change(product, variant, store.uuid, sold.uuid, 2000, "products[0]")
        await apply_locked(
            conn, actor, [change], all_locations, source=source, external_uuid=None, at_ms=now_ms()
        )

    await db.write(work)


async def test_purchases_are_recorded_even_when_negative_stock_is_refused(api: Api, db: Database) -> None:
    actor = Actor(api.org, api.sub)
    await settings.put(db, actor, allow_negative_stock=False)
    await sell(db, Actor(api.org, api.sub, user_type="SYSTEM"), Source.PURCHASE)
    for source in (Source.API, Source.BULK, Source.COUNT):
        with pytest.raises(ServiceError) as raised:
            await sell(db, actor, source)
        assert raised.value.error_type == "INSUFFICIENT_STOCK"
        assert raised.value.violations[0].property_name == "products[0]"
