"""Several stores, stock counts and the negative-stock policy (spec §8), with their events."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import select

from stockledger.store.db import Database
from stockledger.store.tables import outbox
from tests.conftest import Api, new_uuid

COUNTS = "/organizations/self/inventory/counts"


async def balance_changed_events(db: Database, org: str) -> list[dict[str, Any]]:
    async def work(conn: Any) -> list[str]:
        stmt = (
            select(outbox.c.payload)
            .where(outbox.c.org_uuid == org, outbox.c.event_name == "InventoryBalanceChanged")
            .order_by(outbox.c.id)
        )
        return list((await conn.scalars(stmt)).all())

    return [orjson.loads(p) for p in await db.read(work)]


async def create_store(api: Api, name: str, **extra: Any) -> dict[str, Any]:
    response = await api.post("/organizations/self/locations", json={"name": name, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def balance(api: Api, location: str, product: str, variant: str) -> str | None:
    body = (await api.get(f"/organizations/self/inventory/locations/{location}")).json()
    found = [
        v["balance"] for v in body["variants"] if v["productUuid"] == product and v["variantUuid"] == variant
    ]
    return found[0] if found else None


# ---- several stores ----


async def test_create_store_adds_a_version_1_store_listed_after_the_default(api: Api) -> None:
    store = await create_store(api, "Warehouse", description="Back room")
    assert uuid.UUID(store["uuid"]).version == 1
    assert store == {
        "uuid": store["uuid"],
        "type": "STORE",
        "name": "Warehouse",
        "description": "Back room",
        "default": False,
    }
    listed = (await api.get("/organizations/self/locations")).json()
    assert [loc["type"] for loc in listed] == ["STORE", "STORE", "SOLD", "BIN", "SUPPLIER"]
    assert listed[0]["default"] is True and listed[1]["uuid"] == store["uuid"]


async def test_making_a_store_the_default_keeps_exactly_one_default(api: Api) -> None:
    locs = await api.locations()
    store = await create_store(api, "Shop 2")
    response = await api.put(f"/organizations/self/locations/{store['uuid']}", json={"default": True})
    assert response.status_code == 200, response.text
    assert response.json()["default"] is True
    listed = (await api.get("/organizations/self/locations")).json()
    assert [loc["uuid"] for loc in listed if loc["default"]] == [store["uuid"]]
    by_type = (await api.get("/organizations/self/inventory/locations", params={"type": "store"})).json()
    assert by_type["locationUuid"] == store["uuid"]
    assert (await api.get("/inventory")).json()["locationUuid"] == store["uuid"]
    # the old default store still exists as an ordinary store
    assert locs["STORE"] in [loc["uuid"] for loc in listed]


async def test_update_store_renames_and_describes(api: Api) -> None:
    store = await create_store(api, "Old", description="x")
    response = await api.put(
        f"/organizations/self/locations/{store['uuid']}", json={"name": "New", "description": None}
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "New" and response.json()["description"] is None


async def test_system_locations_cannot_be_changed_or_made_default(api: Api) -> None:
    locs = await api.locations()
    for kind in ("SOLD", "BIN", "SUPPLIER"):
        response = await api.put(f"/organizations/self/locations/{locs[kind]}", json={"default": True})
        assert response.status_code == 400, response.text
    response = await api.put(f"/organizations/self/locations/{locs['STORE']}", json={"default": False})
    assert response.status_code == 400
    assert (
        await api.put(f"/organizations/self/locations/{new_uuid()}", json={"name": "x"})
    ).status_code == 404
    assert (await api.post("/organizations/self/locations", json={"name": ""})).status_code == 400
    assert (await api.post("/organizations/self/locations", json={})).status_code == 400
    listed = (await api.get("/organizations/self/locations")).json()
    assert [loc["uuid"] for loc in listed if loc["default"]] == [locs["STORE"]]


async def test_stock_moves_between_stores_and_the_event_covers_both(api: Api, db: Database) -> None:
    locs = await api.locations()
    store = await create_store(api, "Second")
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 10)
    response = await api.move(product, variant, locs["STORE"], store["uuid"], 4)
    assert response.status_code == 200, response.text
    assert await balance(api, locs["STORE"], product, variant) == "6"
    assert await balance(api, store["uuid"], product, variant) == "4"
    event = (await balance_changed_events(db, api.org))[-1]
    after = {r["locationUuid"]: r["balance"] for r in event["balanceAfter"]}
    assert after == {locs["STORE"]: "6", store["uuid"]: "4"}


# ---- stock counts ----


async def test_count_sets_balances_recording_differences_to_bin_and_from_supplier(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product, v_low, v_high, v_same = new_uuid(), new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    for variant in (v_low, v_high, v_same):
        await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 10)
    body = {
        "counts": [
            {"productUuid": product, "variantUuid": v_low, "balance": "7.5", "expectedBalance": 10},
            {"productUuid": product, "variantUuid": v_high, "balance": 12},
            {"productUuid": product, "variantUuid": v_same, "balance": "10"},
        ],
        "externalUuid": "count-1",
    }
    response = await api.post(COUNTS, json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["locationUuid"] == locs["STORE"]
    got = {v["variantUuid"]: v["balance"] for v in answer["variants"]}
    assert got == {v_low: "7.5", v_high: "12", v_same: "10"}
    assert await balance(api, locs["STORE"], product, v_low) == "7.5"
    moves = (
        await api.get("/organizations/self/inventory/movements", params={"externalUuid": "count-1"})
    ).json()
    by_variant = {m["variantUuid"]: m for m in moves["movements"]}
    assert set(by_variant) == {v_low, v_high}  # no movement when the count equals the balance
    assert by_variant[v_low]["toLocationUuid"] == locs["BIN"] and by_variant[v_low]["change"] == "2.5"
    assert by_variant[v_high]["fromLocationUuid"] == locs["SUPPLIER"] and by_variant[v_high]["change"] == "2"
    assert {m["source"] for m in moves["movements"]} == {"COUNT"}
    event = (await balance_changed_events(db, api.org))[-1]
    assert event["externalUuid"] == "count-1"
    assert {r["variantUuid"]: r["balance"] for r in event["balanceAfter"]} == {v_low: "7.5", v_high: "12"}


async def test_count_with_a_stale_expected_balance_changes_nothing(api: Api) -> None:
    locs = await api.locations()
    product, v1, v2 = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    await api.move(product, v1, locs["SUPPLIER"], locs["STORE"], 10)
    await api.move(product, v2, locs["SUPPLIER"], locs["STORE"], 3)
    body = {
        "counts": [
            {"productUuid": product, "variantUuid": v1, "balance": 1},
            {"productUuid": product, "variantUuid": v2, "balance": 5, "expectedBalance": 4},
        ]
    }
    response = await api.post(COUNTS, json=body)
    assert response.status_code == 409, response.text
    error = response.json()
    assert error["errorType"] == "BALANCE_CHANGED"
    assert [v["propertyName"] for v in error["violations"]] == ["counts[1].expectedBalance"]
    current = {c["variantUuid"]: c["balance"] for c in error["currentBalances"]}
    assert current == {v1: "10", v2: "3"}
    assert await balance(api, locs["STORE"], product, v1) == "10"
    assert await balance(api, locs["STORE"], product, v2) == "3"


async def test_count_in_another_store_and_validation(api: Api) -> None:
    locs = await api.locations()
    store = await create_store(api, "Counted")
    product, variant = new_uuid(), new_uuid()
    count = {"productUuid": product, "variantUuid": variant, "balance": 4}
    response = await api.post(COUNTS, json={"counts": [count]})
    assert response.status_code == 400 and response.json()["errorType"] == "PRODUCT_NOT_TRACKED"
    await api.track(product)
    response = await api.post(COUNTS, json={"counts": [count], "locationUuid": store["uuid"]})
    assert response.status_code == 200, response.text
    assert response.json()["variants"][0]["balance"] == "4"
    assert await balance(api, store["uuid"], product, variant) == "4"
    assert await balance(api, locs["STORE"], product, variant) is None
    bad = [
        {"counts": [count], "locationUuid": locs["BIN"]},
        {"counts": [count, count]},
        {"counts": [{**count, "balance": "1.0001"}]},
        {"counts": [count], "locationUuid": new_uuid()},
    ]
    for body in bad:
        response = await api.post(COUNTS, json=body)
        assert response.status_code == 400, (body, response.text)


# ---- negative-stock policy ----


async def test_settings_default_to_allowing_negative_stock_and_can_be_changed(api: Api) -> None:
    assert (await api.get("/organizations/self/settings")).json()["allowNegativeStock"] is True
    response = await api.put("/organizations/self/settings", json={"allowNegativeStock": False})
    assert response.status_code == 200 and response.json()["allowNegativeStock"] is False
    assert (await api.get("/organizations/self/settings")).json()["allowNegativeStock"] is False
    assert (
        await api.put("/organizations/self/settings", json={"allowNegativeStock": "no"})
    ).status_code == 400


async def test_refused_negative_stock_fails_movements_bulk_and_counts_atomically(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product, v1, v2 = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    await api.move(product, v1, locs["SUPPLIER"], locs["STORE"], 5)
    await api.put("/organizations/self/settings", json={"allowNegativeStock": False})
    events_before = len(await balance_changed_events(db, api.org))

    changes = [
        {"productUuid": product, "variantUuid": v1, "fromLocationUuid": locs["STORE"],
         "toLocationUuid": locs["SOLD"], "change": 5},
        {"productUuid": product, "variantUuid": v2, "fromLocationUuid": locs["STORE"],
         "toLocationUuid": locs["SOLD"], "change": 1},
    ]  # fmt: skip
    response = await api.put("/organizations/self/inventory", json={"changes": changes})
    assert response.status_code == 409, response.text
    assert response.json()["errorType"] == "INSUFFICIENT_STOCK"
    assert [v["propertyName"] for v in response.json()["violations"]] == ["changes[1]"]
    assert await balance(api, locs["STORE"], product, v1) == "5"

    discard = {
        "variantUuid": v1,
        "fromLocationUuid": locs["STORE"],
        "toLocationUuid": locs["BIN"],
        "change": 6,
    }
    bulk = {"productChanges": [{"productUuid": product, "variantChanges": [discard]}]}
    response = await api.post("/organizations/self/v2/inventory/bulk", json=bulk)
    assert response.status_code == 409 and response.json()["errorType"] == "INSUFFICIENT_STOCK"
    assert response.json()["violations"][0]["propertyName"] == "productChanges[0].variantChanges[0]"

    response = await api.post(
        COUNTS, json={"counts": [{"productUuid": product, "variantUuid": v1, "balance": -1}]}
    )
    assert response.status_code == 409 and response.json()["errorType"] == "INSUFFICIENT_STOCK"
    assert await balance(api, locs["STORE"], product, v1) == "5"
    assert len(await balance_changed_events(db, api.org)) == events_before

    # within the stock it still works; SUPPLIER may go negative (not a STORE)
    assert (await api.move(product, v1, locs["STORE"], locs["SOLD"], 5)).status_code == 200
    assert await balance(api, locs["STORE"], product, v1) == "0"


async def test_negative_stock_allowed_by_default(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    assert (await api.move(product, variant, locs["STORE"], locs["SOLD"], 3)).status_code == 200
    assert await balance(api, locs["STORE"], product, variant) == "-3"


async def test_extension_writes_on_another_organization_are_forbidden(api: Api, other_api: Api) -> None:
    locs = await api.locations()
    base = f"/organizations/{api.org}"
    attempts = [
        ("POST", f"{base}/locations", {"name": "Intruder"}),
        ("PUT", f"{base}/locations/{locs['STORE']}", {"name": "Mine"}),
        ("PUT", f"{base}/settings", {"allowNegativeStock": False}),
        ("POST", f"{base}/inventory/counts", {"counts": []}),
    ]
    for method, path, body in attempts:
        response = await other_api.request(method, path, json=body)
        assert response.status_code == 403, (path, response.text)
    assert (await api.get("/organizations/self/settings")).json()["allowNegativeStock"] is True
    names = [loc["name"] for loc in (await api.get("/organizations/self/locations")).json()]
    assert names == ["STORE", "SOLD", "BIN", "SUPPLIER"]
