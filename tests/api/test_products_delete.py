"""Product Library deletes (product-library-api §3.6, §3.7) and the product events (§5)."""

from __future__ import annotations

import pytest

from stockledger.store.db import Database
from tests.api.product_helpers import (
    PRODUCTS,
    create,
    library_digest,
    product_body,
    product_events,
    simple_body,
)
from tests.api.test_errors import assert_error
from tests.conftest import Api, new_uuid


async def test_delete_answers_204_and_the_product_is_gone(api: Api, db: Database) -> None:
    entity = await create(api, simple_body())
    response = await api.delete(f"{PRODUCTS}/{entity['uuid']}")
    assert response.status_code == 204 and response.content == b""
    assert_error(await api.get(f"{PRODUCTS}/{entity['uuid']}"), 404, "ENTITY_NOT_FOUND")
    assert (await api.get(f"{PRODUCTS}/v2/count")).json() == {"productCount": 0}
    name, payload = (await product_events(db, api.org))[-1]
    assert name == "ProductDeleted"
    assert payload["uuid"] == entity["uuid"] and payload["organizationUuid"] == api.org
    assert payload["etag"] != entity["etag"]  # a fresh etag, as Zettle's sample shows
    assert payload["updated"] >= entity["updated"]
    assert payload["variants"][0]["uuid"] == entity["variants"][0]["uuid"]


async def test_delete_of_a_missing_product_is_entity_not_found(api: Api, db: Database) -> None:
    before = await library_digest(db, api.org)
    assert_error(await api.delete(f"{PRODUCTS}/{new_uuid()}"), 404, "ENTITY_NOT_FOUND")
    assert await library_digest(db, api.org) == before


async def test_a_deleted_uuid_can_be_created_again(api: Api) -> None:
    body = simple_body()
    await create(api, body)
    assert (await api.delete(f"{PRODUCTS}/{body['uuid']}")).status_code == 204
    assert (await api.post(PRODUCTS, json=body)).status_code == 201


@pytest.mark.parametrize("key", ["uuid", "uuid[]", "indexed"])
async def test_bulk_delete_takes_every_form_of_the_uuid_list_and_skips_unknown_ones(
    api: Api, db: Database, key: str
) -> None:
    made = [await create(api, simple_body()) for _ in range(3)]
    doomed = [made[0]["uuid"], new_uuid(), made[2]["uuid"]]
    query = "&".join(f"{f'uuid[{i}]' if key == 'indexed' else key}={uuid}" for i, uuid in enumerate(doomed))
    response = await api.delete(f"{PRODUCTS}?{query}", headers={"Content-Type": "application/json"})
    assert response.status_code == 204, response.text
    assert [p["uuid"] for p in (await api.get(PRODUCTS)).json()] == [made[1]["uuid"]]
    deleted = [
        payload["uuid"] for name, payload in await product_events(db, api.org) if name == "ProductDeleted"
    ]
    assert deleted == [made[0]["uuid"], made[2]["uuid"]]


async def test_bulk_delete_of_a_hundred_products_with_a_trailing_slash(api: Api) -> None:
    made = [simple_body() for _ in range(100)]
    for body in made:
        assert (await api.post(PRODUCTS, json=body)).status_code == 201
    query = "&".join(f"uuid={body['uuid']}" for body in made)
    response = await api.request("DELETE", f"{PRODUCTS}/?{query}", content=b"[]")
    assert response.status_code == 204
    assert (await api.get(f"{PRODUCTS}/v2/count")).json() == {"productCount": 0}


@pytest.mark.parametrize("query", ["", "?other=1", "?uuid=not-a-uuid"])
async def test_bulk_delete_without_a_good_uuid_is_400(api: Api, query: str) -> None:
    body = assert_error(await api.delete(f"{PRODUCTS}{query}"), 400, "VALIDATION_ERROR")
    assert body["violations"][0]["propertyName"] == "uuid"


async def test_deleting_a_product_leaves_its_stock_and_tracking_alone(api: Api) -> None:
    body = simple_body()
    await create(api, body)
    variant = body["variants"][0]["uuid"]
    locs = await api.locations()
    await api.track(body["uuid"])
    assert (await api.move(body["uuid"], variant, locs["SUPPLIER"], locs["STORE"], 4)).status_code == 200
    assert (await api.delete(f"{PRODUCTS}/{body['uuid']}")).status_code == 204
    stock = (await api.get(f"/organizations/self/inventory/locations/{locs['STORE']}")).json()
    assert body["uuid"] in stock["trackedProducts"]
    assert [(v["variantUuid"], v["balance"]) for v in stock["variants"]] == [(variant, "4")]


async def test_stock_of_a_product_the_library_does_not_hold_is_tracked_as_before(api: Api) -> None:
    product, variant = new_uuid(), new_uuid()
    locs = await api.locations()
    await api.track(product)
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 2)).status_code == 200
    assert_error(await api.get(f"{PRODUCTS}/{product}"), 404, "ENTITY_NOT_FOUND")


async def test_created_event_carries_the_entity_with_the_authors_and_without_nulls(
    api: Api, db: Database
) -> None:
    entity = await create(api, product_body(description=None))
    name, payload = (await product_events(db, api.org))[-1]
    assert name == "ProductCreated"
    expected = {k: v for k, v in entity.items() if v is not None and k != "updatedBy"}
    expected["variants"] = [
        {k: v for k, v in variant.items() if v is not None} for variant in entity["variants"]
    ]
    expected["presentation"] = {"imageUrl": entity["presentation"]["imageUrl"]}
    expected["variantOptionDefinitions"] = {
        "definitions": [
            {"name": "Size", "properties": [{"value": "S"}, {"value": "M"}]},
        ]
    }
    assert payload == {
        **expected,
        "organizationUuid": api.org,
        "createdByUserUuid": api.sub,
        "updatedByUserUuid": api.sub,
    }
