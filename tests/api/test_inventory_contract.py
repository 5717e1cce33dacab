"""The Inventory API of spec §5: exact answer shapes, ordering, `since`, tracking and bulk rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stockledger.store.db import Database
from tests.conftest import Api, new_uuid
from tests.ledger import outbox_events, snapshot

BALANCE_KEYS = {"locationUuid", "locationType", "productUuid", "variantUuid", "balance"}
INVENTORY_KEYS = {"locationUuid", "trackedProducts", "variants", "latest"}
LOCATION_KEYS = {"uuid", "type", "name", "description", "default"}


def assert_balance_record(record: dict[str, Any]) -> None:
    assert set(record) == BALANCE_KEYS
    assert all(isinstance(record[k], str) for k in BALANCE_KEYS)


def assert_inventory(body: dict[str, Any]) -> None:
    assert set(body) == INVENTORY_KEYS
    assert isinstance(body["latest"], int) and not isinstance(body["latest"], bool)
    assert body["trackedProducts"] == sorted(body["trackedProducts"])
    for record in body["variants"]:
        assert_balance_record(record)
    keys = [(r["productUuid"], r["variantUuid"]) for r in body["variants"]]
    assert keys == sorted(keys)


async def restock(api: Api, product: str, variant: str, amount: Any) -> None:
    locs = await api.locations()
    response = await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], amount)
    assert response.status_code == 200, response.text


async def test_locations_are_the_four_system_locations_default_store_first(api: Api) -> None:
    response = await api.get("/organizations/self/locations")
    assert response.status_code == 200
    body = response.json()
    assert body[0]["type"] == "STORE"
    assert sorted(loc["type"] for loc in body) == ["BIN", "SOLD", "STORE", "SUPPLIER"]
    for loc in body:
        assert set(loc) == LOCATION_KEYS
        assert loc["name"] == loc["type"]
        assert loc["description"] == "System generated location"
        assert loc["default"] is (loc["type"] == "STORE")
        assert uuid.UUID(loc["uuid"]).version == 1
        assert loc["uuid"] == loc["uuid"].lower()


async def test_balances_are_plain_strings_including_zero_and_negative(api: Api) -> None:
    product, v1, v2, v3 = new_uuid(), new_uuid(), new_uuid(), new_uuid()
    locs = await api.locations()
    await api.track(product)
    await restock(api, product, v1, 42)
    await restock(api, product, v2, "2.500")
    await restock(api, product, v3, "1")
    sold = await api.move(product, v3, locs["STORE"], locs["SOLD"], 1)
    assert sold.status_code == 200
    body = (await api.get("/inventory")).json()
    assert_inventory(body)
    balances = {r["variantUuid"]: r["balance"] for r in body["variants"]}
    assert balances == {v1: "42", v2: "2.5", v3: "0"}  # zero balances are listed
    supplier = (await api.get(f"/organizations/self/inventory/locations/{locs['SUPPLIER']}")).json()
    assert {r["variantUuid"]: r["balance"] for r in supplier["variants"]} == {v1: "-42", v2: "-2.5", v3: "-1"}
    assert all(r["locationType"] == "SUPPLIER" for r in supplier["variants"])


async def test_inventory_lists_every_tracked_product_sorted_and_variants_ordered(api: Api) -> None:
    products = sorted(new_uuid() for _ in range(3))
    for product in reversed(products):
        await api.track(product)
    variants = [new_uuid() for _ in range(3)]
    for variant in variants:
        await restock(api, products[1], variant, 1)
        await restock(api, products[0], variant, 1)
    for path in ("/inventory", "/organizations/self/inventory"):
        body = (await api.get(path)).json()
        assert_inventory(body)
        assert body["trackedProducts"] == products  # products[2] has no balance but is listed
        assert len(body["variants"]) == 6


async def test_empty_organization_answers_latest_zero(api: Api) -> None:
    body = (await api.get("/inventory")).json()
    assert body["latest"] == 0 and body["variants"] == [] and body["trackedProducts"] == []


async def test_since_as_integer_lists_only_later_changes(api: Api) -> None:
    product, v1, v2, other = new_uuid(), new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    await api.track(other)
    await restock(api, product, v1, 1)
    latest = (await api.get("/inventory")).json()["latest"]
    await restock(api, product, v2, 1)
    body = (await api.get("/inventory", params={"since": latest})).json()
    assert_inventory(body)
    assert [r["variantUuid"] for r in body["variants"]] == [v2]
    assert body["trackedProducts"] == sorted([product, other])
    assert body["latest"] > latest
    again = (await api.get("/inventory", params={"since": body["latest"]})).json()
    assert again["variants"] == [] and again["trackedProducts"] == sorted([product, other])


async def test_since_as_iso_date_time_lists_only_later_changes(api: Api) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    before = datetime.now(UTC) - timedelta(seconds=5)
    await restock(api, product, variant, 3)
    after = datetime.now(UTC) + timedelta(seconds=5)
    for since in (before.isoformat(), before.strftime("%Y-%m-%dT%H:%M:%S.%fZ")):
        body = (await api.get("/inventory", params={"since": since})).json()
        assert [r["variantUuid"] for r in body["variants"]] == [variant]
    body = (await api.get("/inventory", params={"since": after.isoformat()})).json()
    assert body["variants"] == [] and body["trackedProducts"] == [product]


@pytest.mark.parametrize(
    "since", ["yesterday", "-1", "1.5", "²", "2026-11-26T10:00:00", str(2**63), "9" * 30]
)
async def test_since_that_is_neither_a_sequence_number_nor_an_instant_is_rejected(
    api: Api, since: str
) -> None:
    response = await api.get("/inventory", params={"since": since})
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyName"] == "since"


async def test_since_largest_sequence_number_lists_nothing(api: Api) -> None:
    await api.track(new_uuid())
    response = await api.get("/inventory", params={"since": str(2**63 - 1)})
    assert response.status_code == 200 and response.json()["variants"] == []


async def test_since_sees_balances_reappear_when_tracking_starts_again(api: Api) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await restock(api, product, variant, 4)
    latest = (await api.get("/inventory")).json()["latest"]
    assert (await api.delete(f"/organizations/self/inventory/products/{product}")).status_code == 204
    await api.track(product)
    body = (await api.get("/inventory", params={"since": latest})).json()
    assert [(r["variantUuid"], r["balance"]) for r in body["variants"]] == [(variant, "4")]


async def test_products_query_with_a_very_long_list(api: Api) -> None:
    """Longer than one statement's parameter limit: answered in full, in order."""
    products = sorted(new_uuid() for _ in range(3))
    for product in products:
        await api.track(product)
        await restock(api, product, new_uuid(), 1)
    listed = [new_uuid() for _ in range(40_000)] + products
    response = await api.post("/organizations/self/inventory/products", json={"productUuids": listed})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["trackedProducts"] == products
    assert [r["productUuid"] for r in body["variants"]] == products


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


@pytest.mark.parametrize("kind", ["STORE", "store", "Sold", "bin", "SUPPLIER"])
async def test_inventory_by_type_accepts_any_letter_case(api: Api, kind: str) -> None:
    locs = await api.locations()
    response = await api.get("/organizations/self/inventory/locations", params={"type": kind})
    assert response.status_code == 200
    body = response.json()
    assert_inventory(body)
    assert body["locationUuid"] == locs[kind.upper()]


@pytest.mark.parametrize("kind", ["WAREHOUSE", ""])
async def test_inventory_by_unknown_type_is_rejected(api: Api, kind: str) -> None:
    response = await api.get("/organizations/self/inventory/locations", params={"type": kind})
    assert response.status_code == 400
    assert response.json()["errorType"] == "VALIDATION_ERROR"


async def test_inventory_of_unknown_location_is_not_found(api: Api) -> None:
    response = await api.get(f"/organizations/self/inventory/locations/{uuid.uuid1()}")
    assert response.status_code == 404
    assert response.json()["errorType"] == "ENTITY_NOT_FOUND"


async def test_products_query_restricts_to_listed_tracked_products(api: Api) -> None:
    tracked, untracked, unlisted, variant = new_uuid(), new_uuid(), new_uuid(), new_uuid()
    locs = await api.locations()
    await api.track(tracked)
    await api.track(unlisted)
    await restock(api, tracked, variant, 5)
    await restock(api, unlisted, variant, 5)
    body = {"productUuids": [tracked.upper(), untracked]}
    response = await api.post("/organizations/self/inventory/products", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert_inventory(answer)
    assert answer["locationUuid"] == locs["STORE"]
    assert answer["trackedProducts"] == [tracked]
    assert [(r["productUuid"], r["balance"]) for r in answer["variants"]] == [(tracked, "5")]
    by_type = await api.post(
        "/organizations/self/inventory/products", json={**body, "locationType": "supplier"}
    )
    assert by_type.json()["locationUuid"] == locs["SUPPLIER"]
    assert by_type.json()["variants"][0]["balance"] == "-5"
    by_uuid = await api.post(
        "/organizations/self/inventory/products", json={**body, "locationUuid": locs["SUPPLIER"].upper()}
    )
    assert by_uuid.json()["locationUuid"] == locs["SUPPLIER"]


async def test_single_product_fetch(api: Api) -> None:
    product, variant, untracked = new_uuid(), new_uuid(), new_uuid()
    locs = await api.locations()
    await api.track(product)
    await restock(api, product, variant, 7)
    path = f"/organizations/self/inventory/locations/{locs['STORE']}/products/{product.upper()}"
    response = await api.get(path)
    assert response.status_code == 200
    assert set(response.json()) == {"locationUuid", "variants"}
    [record] = response.json()["variants"]
    assert_balance_record(record)
    assert record["productUuid"] == product and record["balance"] == "7"
    response = await api.get(f"/organizations/self/inventory/locations/{locs['STORE']}/products/{untracked}")
    assert response.status_code == 400
    assert response.json()["errorType"] == "PRODUCT_NOT_TRACKED"
    response = await api.get(f"/organizations/self/inventory/locations/{uuid.uuid1()}/products/{product}")
    assert response.status_code == 404


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
    [event] = await outbox_events_payloads(db, api.org)
    assert event["externalUuid"] == "sync-run-1"


async def outbox_events_payloads(db: Database, org: str) -> list[dict[str, Any]]:
    import orjson
    from sqlalchemy import select

    from stockledger.store.tables import outbox

    async def work(conn: Any) -> list[dict[str, Any]]:
        stmt = (
            select(outbox.c.payload)
            .where(outbox.c.org_uuid == org, outbox.c.event_name == "InventoryBalanceChanged")
            .order_by(outbox.c.id)
            .limit(1)
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


async def test_uppercase_uuids_are_accepted_and_returned_lowercase(api: Api) -> None:
    product, variant = new_uuid(), new_uuid()
    locs = await api.locations()
    await api.track(product.upper())
    response = await api.move(
        product.upper(), variant.upper(), locs["SUPPLIER"].upper(), locs["STORE"].upper(), 1
    )
    assert response.status_code == 200
    [record] = response.json()["variants"]
    assert (record["productUuid"], record["variantUuid"], record["locationUuid"]) == (
        product,
        variant,
        locs["STORE"],
    )
    org_path = f"/organizations/{api.org.upper()}/inventory/locations/{locs['STORE'].upper()}"
    body = (await api.get(org_path)).json()
    assert body["locationUuid"] == locs["STORE"] and body["trackedProducts"] == [product]


def _routes(locs: dict[str, str], product: str) -> list[tuple[str, str, Any]]:
    store = locs["STORE"]
    change = {
        "productUuid": product,
        "variantUuid": product,
        "fromLocationUuid": locs["SUPPLIER"],
        "toLocationUuid": store,
        "change": 1,
    }
    return [
        ("GET", "/organizations/self/locations/", None),
        ("POST", "/organizations/self/inventory/", {"productUuid": product}),
        ("GET", "/inventory/", None),
        ("GET", "/organizations/self/inventory/", None),
        ("GET", f"/organizations/self/inventory/locations/{store}/", None),
        ("GET", "/organizations/self/inventory/locations/?type=SOLD", None),
        ("POST", "/organizations/self/inventory/products/", {"productUuids": [product]}),
        ("GET", f"/organizations/self/inventory/locations/{store}/products/{product}/", None),
        ("PUT", "/organizations/self/inventory/", {"changes": [change]}),
        ("POST", "/organizations/self/v2/inventory/bulk/", {"productChanges": [{"productUuid": product}]}),
        ("DELETE", f"/organizations/self/inventory/products/{product}/", None),
        ("GET", "/users/self/", None),
    ]


async def test_every_route_answers_with_trailing_slash_without_redirect(api: Api) -> None:
    locs = await api.locations()
    for method, path, body in _routes(locs, new_uuid()):
        response = await api.request(method, path, json=body)
        assert response.status_code in {200, 204}, (method, path, response.status_code, response.text)


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
