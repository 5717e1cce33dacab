"""The server default low-stock level: taken from the settings of each app, applied when no level is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.app import create_app
from stockledger.service import low_stock
from stockledger.service.context import Actor
from stockledger.store.db import Database
from tests.api.low_stock_support import low_stock_events, put, sell, stock
from tests.conftest import Api, make_settings, new_uuid


@asynccontextmanager
async def client_of(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as http:
        yield http


async def test_each_app_uses_its_own_configured_default(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """Two apps built in one process with different defaults (the last one built does not win)."""
    apps = [
        create_app(make_settings(database_url, tmp_path / str(level), default_low_stock_level=level), db=db)
        for level in (2, 3)
    ]
    assert [app.state.stockledger.default_low_stock_units for app in apps] == [2000, 3000]
    for app, level in zip(apps, (2, 3), strict=True):
        async with client_of(app) as http:
            api = Api(http, new_uuid())
            locs = await api.locations()
            product, variant = new_uuid(), new_uuid()
            await api.track(product)
            await stock(api, locs, product, variant, 10)
            await put(api, locs["STORE"], product, variant, lowStockAlert=True)
            await sell(api, locs, product, variant, 10 - level - 1)  # down to level + 1: above it
            assert await low_stock_events(db, api.org) == []
            view = f"/organizations/self/inventory/locations/{locs['STORE']}/low-stock"
            assert (await api.get(view)).json()["variants"] == []
            await sell(api, locs, product, variant, 1)  # down to its level
            assert [e["lowStockLevel"] for e in await low_stock_events(db, api.org)] == [float(level)]
            assert len((await api.get(view)).json()["variants"]) == 1
            # GET shows what was set: the level stays null.
            response = await api.get(f"/custom-low-stock/v2/locations/{locs['STORE']}/products/{product}")
            assert response.json()["customLowStockLevelForVariants"][0]["customLowStockLevel"] is None


async def test_crossings_compare_net_before_and_after(api: Api, db: Database) -> None:
    store = (await api.locations())["STORE"]
    product, variant, other = new_uuid(), new_uuid(), new_uuid()
    await put(api, store, product, variant, lowStockLevel=1, lowStockAlert=True)
    actor = Actor(api.org, api.sub)

    async def run(conn: AsyncConnection) -> int:
        changed = {
            (store, product, variant): (3000, 1000),
            (store, product, other): (3000, 0),  # no configuration
        }
        alerted = await low_stock.alerts_for(conn, api.org, [changed])
        emitted = low_stock.crossings(actor, changed, alerted, 0, 5000)
        raise_back = low_stock.crossings(actor, {(store, product, variant): (1000, 1000)}, alerted, 0, 5000)
        assert raise_back == []
        return len(emitted)

    assert await db.write(run) == 1
