"""The Inventory API of spec §5, writes: PUT answers, bulk v2 ordering, starting and stopping tracking."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import outbox
from tests.api.contract import restock
from tests.conftest import Api, new_uuid
from tests.ledger import outbox_events, snapshot


async def test_put_with_the_maximum_number_of_changes(api: Api) -> None:
    product = new_uuid()
    locs = await api.locations()
    await api.track(product)
    changes = [
        {
            "productUuid": product,
            "variantUuid": new_uuid(),
            "fromLocationUuid": locs["SUPPLIER"],
            "toLocationUuid": locs["STORE"],
            "change": "0.001",
        }
        for _ in range(1000)
    ]
    response = await api.put("/organizations/self/inventory", json={"changes": changes})
    assert response.status_code == 200, response.text
    assert len(response.json()["variants"]) == 1000
    assert {r["balance"] for r in response.json()["variants"]} == {"0.001"}


async def test_put_answers_balances_in_requested_location_and_stores_external_uuid(
    api: Api, db: Database
) -> None:
    product, v1, v2 = new_uuid(), new_uuid(), new_uuid()
    locs = await api.locations()
    await api.track(product)
    change = {"productUuid": product, "fromLocationUuid": locs["SUPPLIER"], "toLocationUuid": locs["STORE"]}
    body = {
        "changes": [
            {**change, "variantUuid": v2, "change": 3},
            {**change, "variantUuid": v1, "change": "1.5"},
        ],
        "returnBalanceForLocationUuid": locs["SUPPLIER"],
        "externalUuid": "sync-run-1",
    }
    response = await api.put("/organizations/self/inventory", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"locationUuid", "variants"}
    assert answer["locationUuid"] == locs["SUPPLIER"]
    assert {r["variantUuid"]: r["balance"] for r in answer["variants"]} == {v1: "-1.5", v2: "-3"}
    default = await api.move(product, v1, locs["STORE"], locs["SOLD"], "0.5")
    assert default.json()["locationUuid"] == locs["STORE"]
    assert default.json()["variants"] == [
        {
            "locationUuid": locs["STORE"],
            "locationType": "STORE",
            "productUuid": product,
            "variantUuid": v1,
            "balance": "1",
        }
    ]
    first, second = await outbox_events_payloads(db, api.org)
    assert first["externalUuid"] == "sync-run-1" and second["externalUuid"] is None


async def outbox_events_payloads(db: Database, org: str) -> list[dict[str, Any]]:
    """Payloads of the organization's InventoryBalanceChanged events, oldest first."""

    async def work(conn: AsyncConnection) -> list[dict[str, Any]]:
        stmt = (
            select(outbox.c.payload)
            .where(outbox.c.org_uuid == org, outbox.c.event_name == "InventoryBalanceChanged")
            .order_by(outbox.c.id)
        )
        return [orjson.loads(p) for p in (await conn.scalars(stmt)).all()]

    return await db.read(work)


async def test_bulk_starts_tracking_then_moves_then_stops(api: Api) -> None:
    p1, p2, variant = new_uuid(), new_uuid(), new_uuid()
    locs = await api.locations()
    move = {"variantUuid": variant, "fromLocationUuid": locs["SUPPLIER"], "toLocationUuid": locs["STORE"]}
    body = {
        "productChanges": [
            {
                "productUuid": p1,
                "trackingStatusChange": "START_TRACKING",
                "variantChanges": [{**move, "change": 4}],
            },
            {"productUuid": p2, "trackingStatusChange": "START_TRACKING"},
        ]
    }
    response = await api.post("/organizations/self/v2/inventory/bulk", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"locationUuid", "variants"} and answer["locationUuid"] == locs["STORE"]
    assert [(r["productUuid"], r["balance"]) for r in answer["variants"]] == [(p1, "4")]
    assert (await api.get("/inventory")).json()["trackedProducts"] == sorted([p1, p2])

    stop = {
        "productUuid": p1,
        "trackingStatusChange": "STOP_TRACKING",
        "variantChanges": [{**move, "change": 1}],
    }
    response = await api.post("/organizations/self/v2/inventory/bulk", json={"productChanges": [stop]})
    assert response.status_code == 200, response.text
    assert response.json()["variants"][0]["balance"] == "5"  # moved while still tracked
    assert (await api.get("/inventory")).json()["trackedProducts"] == [p2]


async def test_bulk_tracking_only_answers_no_variants(api: Api) -> None:
    body = {"productChanges": [{"productUuid": new_uuid(), "trackingStatusChange": "START_TRACKING"}]}
    response = await api.post("/organizations/self/v2/inventory/bulk", json=body)
    assert response.status_code == 200
    assert response.json()["variants"] == []


async def test_bulk_change_on_untracked_product_is_rejected(api: Api, db: Database) -> None:
    locs = await api.locations()
    move = {
        "variantUuid": new_uuid(),
        "fromLocationUuid": locs["SUPPLIER"],
        "toLocationUuid": locs["STORE"],
        "change": 1,
    }
    body = {"productChanges": [{"productUuid": new_uuid(), "variantChanges": [move]}]}
    before = await snapshot(db, api.org)
    response = await api.post("/organizations/self/v2/inventory/bulk", json=body)
    assert response.status_code == 400
    assert response.json()["errorType"] == "PRODUCT_NOT_TRACKED"
    assert await snapshot(db, api.org) == before


async def test_start_tracking_twice_gives_same_answer_and_one_event(api: Api, db: Database) -> None:
    product, variant = new_uuid(), new_uuid()
    locs = await api.locations()
    first = await api.post("/organizations/self/inventory", json={"productUuid": product.upper()})
    assert first.status_code == 200
    assert first.json() == {"locationUuid": locs["STORE"], "variants": []}
    await restock(api, product, variant, 2)
    answers = [
        await api.post("/organizations/self/inventory", json={"productUuid": product}) for _ in range(2)
    ]
    assert answers[0].json() == answers[1].json()
    assert [r["balance"] for r in answers[0].json()["variants"]] == ["2"]
    assert await outbox_events(db, api.org, "InventoryTrackingStarted") == ["InventoryTrackingStarted"]


async def test_stop_tracking_hides_balances_until_started_again(api: Api, db: Database) -> None:
    product, variant = new_uuid(), new_uuid()
    locs = await api.locations()
    await api.track(product)
    await restock(api, product, variant, 9)
    shown = (await api.get("/inventory")).json()["variants"]
    response = await api.delete(f"/organizations/self/inventory/products/{product.upper()}")
    assert response.status_code == 204 and response.content == b""
    hidden = (await api.get("/inventory")).json()
    assert hidden["variants"] == [] and hidden["trackedProducts"] == []
    supplier = (await api.get(f"/organizations/self/inventory/locations/{locs['SUPPLIER']}")).json()
    assert supplier["variants"] == []
    moved = await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 1)
    assert moved.status_code == 400 and moved.json()["errorType"] == "PRODUCT_NOT_TRACKED"
    await api.track(product)
    assert (await api.get("/inventory")).json()["variants"] == shown
    assert await outbox_events(db, api.org, "InventoryTrackingStopped") == ["InventoryTrackingStopped"]


async def test_stop_tracking_of_untracked_product_is_rejected(api: Api) -> None:
    response = await api.delete(f"/organizations/self/inventory/products/{new_uuid()}")
    assert response.status_code == 400
    assert response.json()["errorType"] == "PRODUCT_NOT_TRACKED"


async def test_bulk_stop_then_start_of_one_product_leaves_it_tracked(api: Api, db: Database) -> None:
    product = new_uuid()
    await api.track(product)
    body = {
        "productChanges": [
            {"productUuid": product, "trackingStatusChange": "STOP_TRACKING"},
            {"productUuid": product, "trackingStatusChange": "START_TRACKING"},
        ]
    }
    response = await api.post("/organizations/self/v2/inventory/bulk", json=body)
    assert response.status_code == 200, response.text
    assert (await api.get("/inventory")).json()["trackedProducts"] == [product]
    assert await outbox_events(db, api.org) == [
        "InventoryTrackingStarted",
        "InventoryTrackingStopped",
        "InventoryTrackingStarted",
    ]
