"""Product Library categories (product-library-api §3.9, §8 Q5): the v2 and v1 calls, and the
categories products create and rename by naming them."""

from __future__ import annotations

from stockledger.store.db import Database
from tests.api.product_helpers import PRODUCTS, create, library_digest, product_events, simple_body
from tests.api.test_errors import assert_error
from tests.conftest import Api, new_uuid

V2 = "/organizations/self/categories/v2"
V1 = "/organizations/self/categories"


async def test_v2_creates_lists_renames_and_deletes_categories(api: Api) -> None:
    shoes, hats = new_uuid(), new_uuid()
    body = {"categories": [{"uuid": shoes, "name": "Shoes"}, {"uuid": hats, "name": "Hats"}]}
    response = await api.post(V2, json=body)
    assert response.status_code == 201 and response.content == b""
    listed = (await api.get(f"{V2}/")).json()
    assert set(listed) == {"categories"}
    assert sorted(listed["categories"], key=lambda c: c["name"]) == [
        {"uuid": hats, "name": "Hats"},
        {"uuid": shoes, "name": "Shoes"},
    ]
    assert (await api.request("PATCH", f"{V2}/{hats}", json={"name": "Caps"})).status_code == 204
    assert (await api.delete(f"{V2}/{shoes}")).status_code == 204
    assert (await api.get(V2)).json() == {"categories": [{"uuid": hats, "name": "Caps"}]}


async def test_v2_refuses_a_category_that_exists_by_uuid_or_name(api: Api, db: Database) -> None:
    shoes = new_uuid()
    assert (await api.post(V2, json={"categories": [{"uuid": shoes, "name": "Shoes"}]})).status_code == 201
    before = await library_digest(db, api.org)
    for body in (
        {"categories": [{"uuid": shoes, "name": "Boots"}]},
        {"categories": [{"uuid": new_uuid(), "name": "shoes"}]},
        {"categories": [{"uuid": new_uuid(), "name": "Bags"}, {"uuid": new_uuid(), "name": "Bags"}]},
    ):
        error = assert_error(await api.post(V2, json=body), 400, "VALIDATION_ERROR")
        assert "Category already exists" in error["developerMessage"]
    assert await library_digest(db, api.org) == before
    other = new_uuid()
    await api.post(V2, json={"categories": [{"uuid": other, "name": "Bags"}]})
    assert_error(await api.request("PATCH", f"{V2}/{other}", json={"name": "SHOES"}), 400, "VALIDATION_ERROR")


async def test_v2_bad_bodies_and_unknown_categories(api: Api) -> None:
    for body, prop in (
        ({"categories": [{"uuid": "x", "name": "A"}]}, "categories[0].uuid"),
        ({"categories": [{"uuid": new_uuid(), "name": ""}]}, "categories[0].name"),
        ({"categories": [{"uuid": new_uuid(), "name": "n" * 101}]}, "categories[0].name"),
        ({"categories": []}, "categories"),
        ({}, "categories"),
    ):
        error = assert_error(await api.post(V2, json=body), 400, "VALIDATION_ERROR")
        assert error["violations"][0]["propertyName"] == prop
    assert_error(
        await api.request("PATCH", f"{V2}/{new_uuid()}", json={"name": "A"}), 404, "ENTITY_NOT_FOUND"
    )
    assert_error(
        await api.request("PATCH", f"{V2}/{new_uuid()}", json={"name": " "}), 400, "VALIDATION_ERROR"
    )
    assert_error(await api.delete(f"{V2}/{new_uuid()}"), 404, "ENTITY_NOT_FOUND")


async def test_v1_serves_the_same_categories(api: Api) -> None:
    uuid = new_uuid()
    assert (await api.post(V1, json={"uuid": uuid, "name": "Tea"})).status_code == 201
    (listed,) = (await api.get(V1)).json()
    assert listed == (await api.get(f"{V1}/{uuid}")).json()
    assert set(listed) == {"uuid", "name", "etag", "updated", "updatedBy", "created"}
    assert listed["uuid"] == uuid and listed["name"] == "Tea" and listed["updatedBy"] == api.sub
    assert (await api.get(V2)).json() == {"categories": [{"uuid": uuid, "name": "Tea"}]}
    assert_error(await api.get(f"{V1}/{new_uuid()}"), 404, "ENTITY_NOT_FOUND")
    error = assert_error(await api.post(V1, json={"uuid": "nope", "name": "x"}), 400, "VALIDATION_ERROR")
    assert error["violations"][0]["propertyName"] == "uuid"


async def test_a_product_naming_an_unknown_category_creates_it(api: Api) -> None:
    category = {"uuid": new_uuid(), "name": "Gadgets"}
    entity = await create(api, simple_body(category=category))
    assert entity["category"] == category
    assert (await api.get(V2)).json() == {"categories": [category]}


async def test_a_product_naming_a_known_category_by_another_name_renames_it_for_every_product(
    api: Api, db: Database
) -> None:
    category = new_uuid()
    first = await create(api, simple_body(category={"uuid": category, "name": "Gadgets"}))
    by_uuid_only = await create(api, simple_body(category={"uuid": category}))
    assert by_uuid_only["category"] == {"uuid": category, "name": "Gadgets"}
    renamed = await create(api, simple_body(category={"uuid": category, "name": "Gizmos"}))
    assert renamed["category"]["name"] == "Gizmos"
    for product in (first, by_uuid_only):
        now = (await api.get(f"{PRODUCTS}/{product['uuid']}")).json()
        assert now["category"] == {"uuid": category, "name": "Gizmos"}
        assert now["etag"] != product["etag"]
    updates = [p for name, p in await product_events(db, api.org) if name == "ProductUpdated"]
    assert {u["newEntity"]["uuid"] for u in updates} == {first["uuid"], by_uuid_only["uuid"]}
    assert all(u["oldEntity"]["category"]["name"] == "Gadgets" for u in updates)


async def test_renaming_or_deleting_a_category_changes_its_products(api: Api, db: Database) -> None:
    category = new_uuid()
    product = await create(api, simple_body(category={"uuid": category, "name": "Tea"}))
    assert (await api.request("PATCH", f"{V2}/{category}", json={"name": "Teas"})).status_code == 204
    renamed = (await api.get(f"{PRODUCTS}/{product['uuid']}")).json()
    assert renamed["category"] == {"uuid": category, "name": "Teas"}
    assert (await api.delete(f"{V2}/{category}")).status_code == 204
    cleared = (await api.get(f"{PRODUCTS}/{product['uuid']}")).json()
    assert cleared["category"] is None and cleared["etag"] != renamed["etag"]
    events = await product_events(db, api.org)
    assert [name for name, _ in events] == ["ProductCreated", "ProductUpdated", "ProductUpdated"]
    (_, first), (_, second) = events[1:]
    assert (first["oldEntity"]["category"]["name"], first["newEntity"]["category"]["name"]) == ("Tea", "Teas")
    assert second["oldEntity"]["category"]["name"] == "Teas" and "category" not in second["newEntity"]


async def test_a_new_category_needs_a_name(api: Api, db: Database) -> None:
    before = await library_digest(db, api.org)
    error = assert_error(
        await api.post(PRODUCTS, json=simple_body(category={"uuid": new_uuid()})), 400, "VALIDATION_ERROR"
    )
    assert error["violations"][0]["propertyName"] == "category.name"
    assert await library_digest(db, api.org) == before
