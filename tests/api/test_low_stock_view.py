"""The low-stock view (spec §6 extension) and the InventoryLowStock event raised by movements (§7)."""

from __future__ import annotations

import asyncio

from stockledger.store.db import Database
from tests.api.low_stock_support import base, low_stock_events, put, sell, stock, view
from tests.conftest import Api, new_uuid


async def test_view_lists_alerted_tracked_variants_at_or_below_their_level(api: Api) -> None:
    locs = await api.locations()
    store = locs["STORE"]
    product, untracked = new_uuid(), new_uuid()
    low, at_level, above, no_alert, default_low, default_above = sorted(new_uuid() for _ in range(6))
    await api.track(product)
    for variant, units in [
        (low, 2),
        (at_level, 5),
        (above, "5.001"),
        (no_alert, 1),
        (default_low, 5),
        (default_above, 6),
    ]:
        await stock(api, locs, product, variant, units)
    for variant in (low, at_level, above):
        await put(api, store, product, variant, lowStockLevel=5, lowStockAlert=True)
    await put(api, store, product, no_alert, lowStockLevel=5)
    await put(api, store, product, default_low, lowStockAlert=True)  # server default level 5
    await put(api, store, product, default_above, lowStockAlert=True)
    await put(api, store, untracked, new_uuid(), lowStockLevel=100, lowStockAlert=True)

    response = await api.get(view(store))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"locationUuid", "trackedProducts", "variants", "latest"}
    assert body["locationUuid"] == store
    assert body["trackedProducts"] == [product]
    assert body["latest"] > 0
    assert [(v["variantUuid"], v["balance"]) for v in body["variants"]] == [
        (low, "2"),
        (at_level, "5"),
        (default_low, "5"),
    ]
    assert body["variants"][0]["locationType"] == "STORE"


async def test_view_counts_a_configured_variant_without_balance_as_zero(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await put(api, store, product, variant, lowStockLevel=0, lowStockAlert=True)
    variants = (await api.get(view(store))).json()["variants"]
    assert [(v["variantUuid"], v["balance"]) for v in variants] == [(variant, "0")]


async def test_view_is_per_location(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await put(api, locs["BIN"], product, variant, lowStockLevel=1, lowStockAlert=True)
    assert (await api.get(view(locs["STORE"]))).json()["variants"] == []
    assert len((await api.get(view(locs["BIN"]))).json()["variants"]) == 1


async def test_crossing_emits_exactly_one_event_with_the_payload(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await stock(api, locs, product, variant, 10)
    await put(api, locs["STORE"], product, variant, lowStockLevel="4.5", lowStockAlert=True)
    assert await low_stock_events(db, api.org) == []

    await sell(api, locs, product, variant, "5.5")  # 10 → 4.5: at the level
    events = await low_stock_events(db, api.org)
    assert len(events) == 1
    event = events[0]
    assert set(event) == {
        "organizationUuid",
        "locationUuid",
        "productUuid",
        "variantUuid",
        "balance",
        "lowStockLevel",
        "updated",
    }
    assert event["organizationUuid"] == api.org
    assert event["locationUuid"] == locs["STORE"]
    assert (event["productUuid"], event["variantUuid"]) == (product, variant)
    assert event["balance"] == "4.5"
    assert event["lowStockLevel"] == 4.5
    assert event["updated"]["uuid"] == api.sub
    assert event["updated"]["userType"] == "USER"
    assert event["updated"]["timestamp"].endswith("+0000")


async def test_staying_below_emits_nothing_and_recrossing_emits_again(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await stock(api, locs, product, variant, 8)
    await put(api, locs["STORE"], product, variant, lowStockLevel=5, lowStockAlert=True)
    await sell(api, locs, product, variant, 4)  # 8 → 4: crossed
    await sell(api, locs, product, variant, 1)  # 4 → 3: still below
    assert len(await low_stock_events(db, api.org)) == 1
    await stock(api, locs, product, variant, 10)  # 3 → 13: above again
    await sell(api, locs, product, variant, 8)  # 13 → 5: crossed again
    events = await low_stock_events(db, api.org)
    assert [e["balance"] for e in events] == ["4", "5"]


async def test_alert_disabled_or_absent_emits_nothing(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, configured, bare = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    for variant in (configured, bare):
        await stock(api, locs, product, variant, 10)
    await put(api, locs["STORE"], product, configured, lowStockLevel=5, lowStockAlert=False)
    await sell(api, locs, product, configured, 9)
    await sell(api, locs, product, bare, 9)  # no configuration at all: default level, alert off
    assert await low_stock_events(db, api.org) == []


async def test_alert_without_level_crosses_the_server_default(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await stock(api, locs, product, variant, 7)
    await put(api, locs["STORE"], product, variant, lowStockAlert=True)
    await sell(api, locs, product, variant, 1)  # 7 → 6: above the default 5
    assert await low_stock_events(db, api.org) == []
    await sell(api, locs, product, variant, 1)  # 6 → 5
    events = await low_stock_events(db, api.org)
    assert [(e["balance"], e["lowStockLevel"]) for e in events] == [("5", 5.0)]


async def test_a_rejected_movement_emits_nothing(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await stock(api, locs, product, variant, 6)
    await put(api, locs["STORE"], product, variant, lowStockLevel=5, lowStockAlert=True)
    body = {
        "changes": [
            {
                "productUuid": product,
                "variantUuid": variant,
                "fromLocationUuid": locs["STORE"],
                "toLocationUuid": locs["SOLD"],
                "change": 3,
            },
            {
                "productUuid": new_uuid(),  # not tracked: the whole request is rejected
                "variantUuid": variant,
                "fromLocationUuid": locs["STORE"],
                "toLocationUuid": locs["SOLD"],
                "change": 1,
            },
        ]
    }
    response = await api.put("/organizations/self/inventory", json=body)
    assert response.status_code == 400
    assert await low_stock_events(db, api.org) == []


async def test_bulk_movements_emit_crossings_too(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await put(api, locs["STORE"], product, variant, lowStockLevel=1, lowStockAlert=True)
    body = {
        "productChanges": [
            {
                "productUuid": product,
                "trackingStatusChange": "START_TRACKING",
                "variantChanges": [
                    {
                        "variantUuid": variant,
                        "fromLocationUuid": locs["SUPPLIER"],
                        "toLocationUuid": locs["STORE"],
                        "change": 3,
                    },
                    {
                        "variantUuid": variant,
                        "fromLocationUuid": locs["STORE"],
                        "toLocationUuid": locs["SOLD"],
                        "change": 2,
                    },
                ],
            }
        ]
    }
    response = await api.post("/organizations/self/v2/inventory/bulk", json=body)
    assert response.status_code == 200, response.text
    # One request nets 0 → 1: the balance was never above the level before the request.
    assert await low_stock_events(db, api.org) == []
    await stock(api, locs, product, variant, 5)
    await sell(api, locs, product, variant, 5)
    assert [e["balance"] for e in await low_stock_events(db, api.org)] == ["1"]
    response = await api.delete(f"{base(locs['STORE'])}/products/{product}/variants/{variant}")
    assert response.status_code == 202


async def test_concurrent_sales_through_the_level_emit_exactly_one_event(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await stock(api, locs, product, variant, 10)
    await put(api, locs["STORE"], product, variant, lowStockLevel=5, lowStockAlert=True)
    await asyncio.gather(*(sell(api, locs, product, variant, 1) for _ in range(10)))
    events = await low_stock_events(db, api.org)
    assert [e["balance"] for e in events] == ["5"]
