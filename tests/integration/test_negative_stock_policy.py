"""The negative-stock policy is one rule of the one posting core: every source is checked except purchases."""

from __future__ import annotations

import pytest

from stockledger.domain.changes import Change, Source
from stockledger.domain.errors import ServiceError
from stockledger.domain.ledger import Request
from stockledger.service import posting, settings
from stockledger.service.context import Actor
from stockledger.store import locations, orgs, write_path
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import UnitOfWork
from tests.conftest import Api, new_uuid


async def sell(db: Database, actor: Actor, source: Source) -> None:
    product, variant = new_uuid(), new_uuid()

    async def work(uow: UnitOfWork) -> None:
        conn = uow.conn
        await orgs.lock(conn, actor.org)
        prelude = await write_path.prelude(conn, actor.org, [product])
        store = locations.default_store(prelude.locations)
        sold = locations.by_type(prelude.locations, "SOLD")
        assert sold is not None
        change = Change(product, variant, store.uuid, sold.uuid, 2000, "products[0]")
        sale = posting.Posting(actor, Request([change]))
        await posting.post(
            uow, actor.org, [sale], prelude, source=source, at_ms=now_ms(), default_low_stock_units=5000
        )

    await db.unit_of_work(work)


async def test_purchases_are_recorded_even_when_negative_stock_is_refused(api: Api, db: Database) -> None:
    actor = Actor(api.org, api.sub)
    await settings.put(db, actor, allow_negative_stock=False)
    await sell(db, Actor(api.org, api.sub, user_type="SYSTEM"), Source.PURCHASE)
    for source in (Source.API, Source.BULK, Source.COUNT):
        with pytest.raises(ServiceError) as raised:
            await sell(db, actor, source)
        assert raised.value.error_type == "INSUFFICIENT_STOCK"
        assert raised.value.violations[0].property_name == "products[0]"
