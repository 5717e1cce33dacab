"""The server default low-stock level: taken from the settings at start-up, applied when no level is set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.app import create_app
from stockledger.service import low_stock
from stockledger.service.context import Actor
from stockledger.store.db import Database
from tests.api.low_stock_support import low_stock_events, put, sell, stock
from tests.conftest import Api, make_settings, new_uuid


@pytest.fixture
def restore_default() -> Iterator[None]:
    saved = low_stock.default_units()
    yield
    low_stock.configure(saved // 1000)


def test_create_app_adopts_the_configured_default(restore_default: None, tmp_path: Path) -> None:
    settings = make_settings("sqlite:///" + str(tmp_path / "x.db"), tmp_path, default_low_stock_level=3)
    create_app(settings, db=Database(settings.effective_database_url()))
    assert low_stock.default_units() == 3000


async def test_alert_without_level_uses_the_configured_default(
    api: Api, db: Database, restore_default: None
) -> None:
    low_stock.configure(2)
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await stock(api, locs, product, variant, 4)
    await put(api, locs["STORE"], product, variant, lowStockAlert=True)
    await sell(api, locs, product, variant, 1)  # 4 → 3: above 2
    assert await low_stock_events(db, api.org) == []
    view = f"/organizations/self/inventory/locations/{locs['STORE']}/low-stock"
    assert (await api.get(view)).json()["variants"] == []
    await sell(api, locs, product, variant, 1)  # 3 → 2
    assert [e["lowStockLevel"] for e in await low_stock_events(db, api.org)] == [2.0]
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
        emitted = low_stock.crossings(actor, changed, alerted, 0)
        raise_back = low_stock.crossings(actor, {(store, product, variant): (1000, 1000)}, alerted, 0)
        assert raise_back == []
        return len(emitted)

    assert await db.write(run) == 1
