"""The Inventory API of spec §5, reads: exact answer shapes, ordering, `since`, location selection."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.contract import LOCATION_KEYS, assert_balance_record, assert_inventory, restock
from tests.conftest import Api, new_uuid


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
