"""What a dispatcher pass costs the database: it runs on every commit that appends events (up to 50
times a second under load), so a pass with nothing to send stays a few statements."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import outbox
from tests.conftest import Api, new_uuid
from tests.integration.test_write_round_trips import captured
from tests.integration.webhooks_support import Hooks
from tests.webhook_receiver import running_receiver


async def _undispatched(db: Database, org: str) -> int:
    async def count(conn: AsyncConnection) -> int:
        query = select(outbox.c.id).where(outbox.c.org_uuid == org, outbox.c.dispatched.is_(False))
        return len((await conn.execute(query)).all())

    return await db.read(count)


async def _moved(api: Api) -> None:
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    response = await api.move(product, new_uuid(), locs["SUPPLIER"], locs["STORE"], 1)
    assert response.status_code == 200, response.text


async def test_a_pass_whose_events_match_no_subscription_marks_them_and_claims_nothing(
    api: Api, db: Database, hooks: Hooks
) -> None:
    # Earlier tests leave deliveries behind (to receivers that are gone); at the epoch none is due.
    hooks.clock.set_ms(1)
    await hooks.dispatcher.drain()  # the events earlier tests left
    await _moved(api)
    assert await _undispatched(db, api.org) == 2  # tracking started, balance changed
    with captured(db) as statements:
        assert await hooks.dispatcher.run_once() == 0
    assert await _undispatched(db, api.org) == 0
    # The probe reads outside any transaction (the side reader); the fan-out marks the events and
    # reads the subscriptions of their organizations; no claim follows, since nothing was created.
    writes = [" ".join(s.split()[:2]) for s in statements if s.startswith(("UPDATE", "INSERT", "DELETE"))]
    assert writes == ["UPDATE outbox"]
    assert any("FROM subscriptions" in s for s in statements)
    assert not [s for s in statements if "EXISTS" in s], statements  # no probe in a transaction
    assert not any(s.startswith("SELECT deliveries.id") for s in statements)  # no claim


async def test_a_pass_claims_and_sends_what_its_fan_out_created(api: Api, hooks: Hooks) -> None:
    await hooks.dispatcher.drain()
    async with running_receiver() as receiver:
        await hooks.subscribe(api, receiver, ["InventoryBalanceChanged"])
        await _moved(api)
        assert await hooks.dispatcher.run_once() == 1  # one pass: fan-out, claim, delivery
        await receiver.wait_for(1, timeout_s=5)
