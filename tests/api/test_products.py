"""Product Library: create, get, lists and count (product-library-api §1, §2, §3.1–§3.4)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from stockledger.service import products
from stockledger.store.db import Database
from tests.api.product_helpers import (
    PRODUCTS,
    create,
    has_empty_object,
    library_digest,
    product_body,
    simple_body,
)
from tests.api.test_errors import assert_error
from tests.conftest import Api, new_uuid

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
ETAG = re.compile(r"^[0-9A-F]{32}$")


async def test_create_then_get_round_trips_every_member(api: Api) -> None:
    body = product_body()
    created = await api.post(PRODUCTS, json=body)
    assert created.status_code == 201, created.text
    fetched = await api.get(f"{PRODUCTS}/{body['uuid']}")
    assert fetched.status_code == 200
    product = fetched.json()
    small, medium = body["variants"]
    assert product == {
        "uuid": body["uuid"],
        "categories": ["Clothes"],
        "category": body["category"],
        "name": "T-shirt",
        "description": "Organic cotton",
        "imageLookupKeys": body["imageLookupKeys"],
        "presentation": {"imageUrl": "https://img.example/t.png", "backgroundColor": None, "textColor": None},
        "variants": [
            {**small, "vatPercentage": "25.0"},
            {**medium, "vatPercentage": "25.0"},
        ],
        "variantOptionDefinitions": {
            "definitions": [
                {
                    "name": "Size",
                    "properties": [{"value": "S", "imageUrl": None}, {"value": "M", "imageUrl": None}],
                }
            ]
        },
        "externalReference": "ID:42",
        "unitName": "pcs",
        "vatPercentage": "25.0",
        "taxExempt": False,
        "taxRates": [],
        "taxCode": None,
        "online": body["online"],
        "metadata": body["metadata"],
        "etag": product["etag"],
        "updated": product["updated"],
        "updatedBy": api.sub,
        "created": product["created"],
    }
    assert ETAG.match(product["etag"])
    assert TIMESTAMP.match(product["created"]) and product["created"] == product["updated"]
    assert fetched.headers["etag"] == f'"{product["etag"]}"'
    assert created.headers["etag"] == fetched.headers["etag"]


async def test_create_answers_201_with_location_and_etag_and_no_body(api: Api) -> None:
    body = simple_body()
    response = await api.post(PRODUCTS, json=body)
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["location"].endswith(f"/organizations/{api.org}/products/{body['uuid']}")
    assert re.fullmatch(r'"[0-9A-F]{32}"', response.headers["etag"])


async def test_return_entity_answers_the_created_product(api: Api) -> None:
    body = simple_body()
    response = await api.post(PRODUCTS, params={"returnEntity": "true"}, json=body)
    assert response.status_code == 201
    entity = response.json()
    assert entity["uuid"] == body["uuid"] and entity["name"] == "Mug"
    assert response.headers["etag"] == f'"{entity["etag"]}"'
    assert entity == (await api.get(f"{PRODUCTS}/{body['uuid']}")).json()


async def test_absent_members_are_null_or_empty_arrays_never_empty_objects(api: Api) -> None:
    entity = await create(api, {"uuid": new_uuid(), "name": "Bare", "variants": [{"uuid": new_uuid()}]})
    assert not has_empty_object(entity)
    assert entity["imageLookupKeys"] == [] and entity["categories"] == [] and entity["taxRates"] == []
    for key in (
        "category",
        "presentation",
        "variantOptionDefinitions",
        "metadata",
        "online",
        "vatPercentage",
    ):
        assert entity[key] is None, key
    (variant,) = entity["variants"]
    for key in ("name", "price", "costPrice", "options", "presentation", "sku", "barcode", "vatPercentage"):
        assert key in variant and variant[key] is None, key


async def test_a_product_without_variants_is_answered_with_one_stable_default_variant(api: Api) -> None:
    body = {"uuid": new_uuid(), "name": "Gift card"}
    entity = await create(api, body)
    (variant,) = entity["variants"]
    assert variant["name"] is None and variant["uuid"] != body["uuid"]
    again = (await api.get(f"{PRODUCTS}/{body['uuid']}")).json()
    assert again["variants"] == entity["variants"]
    assert entity["variantOptionDefinitions"] is None  # one variant, no definitions: a simple product


@pytest.mark.parametrize("amount", [12300, 12300.0, "12300.00"])
async def test_prices_accept_integral_numbers_and_answer_integers(api: Api, amount: Any) -> None:
    body = simple_body(variants=[{"uuid": new_uuid(), "price": {"amount": amount, "currencyId": "EUR"}}])
    if isinstance(amount, str):
        response = await api.post(PRODUCTS, json=body)
        assert_error(response, 400, "VALIDATION_ERROR")
        return
    entity = await create(api, body)
    price = entity["variants"][0]["price"]
    assert price == {"amount": 12300, "currencyId": "EUR"} and type(price["amount"]) is int
    raw = (await api.get(f"{PRODUCTS}/{body['uuid']}")).text
    assert '"amount":12300,' in raw  # a JSON integer, never 12300.0


@pytest.mark.parametrize(("given", "answered"), [(19, "19.0"), ("25", "25.0"), (12.5, "12.5"), ("0", "0.0")])
async def test_vat_is_taken_as_number_or_string_and_answered_as_decimal_string_on_every_variant(
    api: Api, given: Any, answered: str
) -> None:
    variants = [{"uuid": new_uuid()}, {"uuid": new_uuid()}]
    entity = await create(api, simple_body(vatPercentage=given, variants=variants))
    assert entity["vatPercentage"] == answered
    assert [v["vatPercentage"] for v in entity["variants"]] == [answered, answered]


async def test_a_variant_vat_stands_in_for_a_missing_product_vat(api: Api) -> None:
    variants = [{"uuid": new_uuid(), "vatPercentage": 12}, {"uuid": new_uuid()}]
    entity = await create(api, simple_body(variants=variants))
    assert entity["vatPercentage"] == "12.0"
    assert {v["vatPercentage"] for v in entity["variants"]} == {"12.0"}


async def test_incomplete_metadata_is_answered_as_null(api: Api) -> None:
    entity = await create(api, simple_body(metadata={"inPos": True}))
    assert entity["metadata"] is None
    entity = await create(
        api, simple_body(metadata={"inPos": False, "source": {"name": "X", "external": False}})
    )
    assert entity["metadata"] == {"inPos": False, "source": {"name": "X", "external": False}}


async def test_unknown_and_read_only_members_are_ignored(api: Api) -> None:
    body = simple_body(
        etag="ABC",
        updated="2001-01-01T00:00:00.000+0000",
        updatedAt="x",
        created="y",
        createdAt="z",
        updatedBy="someone",
        createWithDefaultTax=True,
        somethingNew={"deep": [1, 2]},
    )
    body["variants"][0]["defaultQuantity"] = 1
    entity = await create(api, body)
    assert entity["etag"] != "ABC" and entity["updatedBy"] == api.sub
    assert "somethingNew" not in entity


async def test_duplicate_create_is_item_already_exist_and_changes_nothing(api: Api, db: Database) -> None:
    body = simple_body()
    first = await create(api, body)
    before = await library_digest(db, api.org)
    again = await api.post(PRODUCTS, json={**body, "name": "Other"})
    assert_error(again, 400, "ITEM_ALREADY_EXIST")
    assert await library_digest(db, api.org) == before
    assert (await api.get(f"{PRODUCTS}/{body['uuid']}")).json() == first


async def test_a_variant_uuid_is_one_products_only(api: Api, db: Database) -> None:
    first = simple_body()
    await create(api, first)
    taken = first["variants"][0]["uuid"]
    before = await library_digest(db, api.org)
    response = await api.post(PRODUCTS, json=simple_body(variants=[{"uuid": new_uuid()}, {"uuid": taken}]))
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["violations"][0]["propertyName"] == "variants[1].uuid"
    twice = new_uuid()
    response = await api.post(PRODUCTS, json=simple_body(variants=[{"uuid": twice}, {"uuid": twice.upper()}]))
    assert (
        assert_error(response, 400, "VALIDATION_ERROR")["violations"][0]["propertyName"] == "variants[1].uuid"
    )
    assert await library_digest(db, api.org) == before


BAD_BODIES = [
    ({"uuid": None}, "uuid"),
    ({"uuid": "nope", "name": "x"}, "uuid"),
    ({"name": None}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "n" * 257}, "name"),
    ({"name": 5}, "name"),
    ({"description": "d" * 1025}, "description"),
    ({"externalReference": "e" * 129}, "externalReference"),
    ({"unitName": "u" * 33}, "unitName"),
    ({"vatPercentage": 101}, "vatPercentage"),
    ({"vatPercentage": "abc"}, "vatPercentage"),
    ({"variants": [{"uuid": None}]}, "variants[0].uuid"),
    ({"variants": [{"uuid": "a-b"}]}, "variants[0].uuid"),
    ({"variants": [{"uuid": "V", "name": "n" * 257}]}, "variants[0].name"),
    ({"variants": [{"uuid": "V", "sku": "s" * 65}]}, "variants[0].sku"),
    ({"variants": [{"uuid": "V", "barcode": "b" * 129}]}, "variants[0].barcode"),
    ({"variants": [{"uuid": "V", "price": {"amount": -1, "currencyId": "SEK"}}]}, "variants[0].price.amount"),
    (
        {"variants": [{"uuid": "V", "price": {"amount": 1.5, "currencyId": "SEK"}}]},
        "variants[0].price.amount",
    ),
    (
        {"variants": [{"uuid": "V", "price": {"amount": True, "currencyId": "SEK"}}]},
        "variants[0].price.amount",
    ),
    ({"variants": [{"uuid": "V", "price": {"amount": 1}}]}, "variants[0].price.currencyId"),
    (
        {"variants": [{"uuid": "V", "costPrice": {"amount": 1, "currencyId": "XXZ"}}]},
        "variants[0].costPrice.currencyId",
    ),
    ({"variants": [{"uuid": "V", "price": {}}]}, "variants[0].price.amount"),
    ({"variants": [{"uuid": "V", "price": 100}]}, "variants[0].price"),
    ({"variants": [{"uuid": "V", "vatPercentage": 12}], "vatPercentage": 25}, "variants[0].vatPercentage"),
    (
        {"variants": [{"uuid": "V", "options": [{"name": "Size", "value": "XL"}]}]},
        "variants[0].options[0].value",
    ),
    (
        {"variants": [{"uuid": "V", "options": [{"name": "Colour", "value": "S"}]}]},
        "variants[0].options[0].name",
    ),
    (
        {"variants": [{"uuid": "V", "options": [{"name": "n" * 31, "value": "S"}]}]},
        "variants[0].options[0].name",
    ),
    ({"variants": [{"uuid": "V"}] * 100}, "variants"),
    ({"variants": {"uuid": "V"}}, "variants"),
    (
        {"variantOptionDefinitions": {"definitions": [{"name": "A", "properties": []}]}},
        "variantOptionDefinitions.definitions[0].properties",
    ),
    ({"category": {"name": "no uuid"}}, "category.uuid"),
    ({"category": {"uuid": "C", "name": "c" * 101}}, "category.name"),
    ({"category": {"uuid": "C"}}, "category.name"),
    ({"categories": ["a", "b"]}, "categories"),
    ({"imageLookupKeys": ["k", "k"]}, "imageLookupKeys[1]"),
    ({"imageLookupKeys": "k"}, "imageLookupKeys"),
    ({"presentation": {"imageUrl": 5}}, "presentation.imageUrl"),
    ({"taxExempt": "yes"}, "taxExempt"),
    ({"taxRates": ["not-a-uuid"]}, "taxRates[0]"),
    ({"online": {"description": "no status"}}, "online.status"),
    ({"online": {"status": "ACTIVE", "seo": {"metaDescription": "m" * 321}}}, "online.seo.metaDescription"),
    ({"metadata": {"source": {"name": "X", "external": True}}}, "metadata.inPos"),
    ({"metadata": {"inPos": "yes"}}, "metadata.inPos"),
]


@pytest.mark.parametrize(("change", "prop"), BAD_BODIES)
async def test_bad_input_is_400_naming_the_property_and_writes_nothing(
    api: Api, db: Database, change: dict[str, Any], prop: str
) -> None:
    definitions = {"definitions": [{"name": "Size", "properties": [{"value": "S"}]}]}
    body: dict[str, Any] = {"uuid": new_uuid(), "name": "ok", "variantOptionDefinitions": definitions}
    body.update(change)
    for variant in body.get("variants") or [] if isinstance(body.get("variants"), list) else []:
        if variant.get("uuid") == "V":
            variant["uuid"] = new_uuid()
    if isinstance(body.get("category"), dict) and body["category"].get("uuid") == "C":
        body["category"] = {**body["category"], "uuid": new_uuid()}
    before = await library_digest(db, api.org)
    response = await api.post(PRODUCTS, json=body)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert prop in [v["propertyName"] for v in error["violations"]], error
    for violation in error["violations"]:
        assert set(violation) == {"propertyName", "developerMessage"}
        assert all(isinstance(value, str) for value in violation.values())
    assert await library_digest(db, api.org) == before


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"text"', b"null"])
async def test_a_body_that_is_not_a_json_object_is_400(api: Api, raw: bytes) -> None:
    response = await api.post(PRODUCTS, content=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_get_of_a_missing_product_is_entity_not_found(api: Api) -> None:
    assert_error(await api.get(f"{PRODUCTS}/{new_uuid()}"), 404, "ENTITY_NOT_FOUND")
    assert_error(await api.get(f"{PRODUCTS}/v2/{new_uuid()}"), 404, "ENTITY_NOT_FOUND")


async def test_get_answers_304_when_if_none_match_names_the_current_etag(api: Api) -> None:
    entity = await create(api, simple_body())
    path = f"{PRODUCTS}/{entity['uuid']}"
    unchanged = await api.get(path, headers={"If-None-Match": f'"{entity["etag"]}"'})
    assert unchanged.status_code == 304 and unchanged.content == b""
    changed = await api.get(path, headers={"If-None-Match": '"0000"'})
    assert changed.status_code == 200


async def test_v2_get_is_an_alias_of_get(api: Api) -> None:
    entity = await create(api, simple_body())
    assert (await api.get(f"{PRODUCTS}/v2/{entity['uuid']}")).json() == entity


async def test_lists_are_arrays_oldest_first_without_link_header(api: Api) -> None:
    made = [await create(api, simple_body(name=f"P{i}")) for i in range(3)]
    for path in (PRODUCTS, f"{PRODUCTS}/v2", f"{PRODUCTS}/v2?sort=true", f"{PRODUCTS}/"):
        response = await api.get(path)
        assert response.status_code == 200, path
        assert "link" not in response.headers
        # oldest first; products created within the same millisecond by UUID
        assert response.json() == sorted(made, key=lambda p: (p["created"], p["uuid"])), path
    assert (await api.get(f"{PRODUCTS}/v2/count")).json() == {"productCount": 3}
    assert (await api.get(f"{PRODUCTS}/v2/count/")).json() == {"productCount": 3}


async def test_an_empty_library_lists_an_empty_array_and_counts_zero(api: Api) -> None:
    assert (await api.get(PRODUCTS)).json() == []
    assert (await api.get(f"{PRODUCTS}/v2")).json() == []
    assert (await api.get(f"{PRODUCTS}/v2/count")).json() == {"productCount": 0}


async def test_a_list_longer_than_one_read_page_is_whole_and_in_order(api: Api, db: Database) -> None:
    count = products.LIST_PAGE_SIZE + 7
    made = [simple_body(name=f"P{i:04}") for i in range(count)]
    for body in made:
        assert (await api.post(PRODUCTS, json=body)).status_code == 201
    listed = (await api.get(f"{PRODUCTS}/v2")).json()
    assert sorted(p["uuid"] for p in listed) == sorted(b["uuid"] for b in made)
    keys = [(p["created"], p["uuid"]) for p in listed]
    assert keys == sorted(keys)
    assert (await api.get(f"{PRODUCTS}/v2/count")).json() == {"productCount": count}


async def test_routes_answer_with_self_the_own_uuid_and_a_trailing_slash(api: Api) -> None:
    body = simple_body()
    assert (await api.post(f"/organizations/{api.org}/products/", json=body)).status_code == 201
    for path in (
        f"/organizations/{api.org}/products/{body['uuid']}/",
        f"/organizations/{api.org.upper()}/products/{body['uuid']}",
        f"/organizations/self/products/{body['uuid']}/",
    ):
        assert (await api.get(path)).status_code == 200, path


async def test_another_organizations_uuid_is_refused_and_its_products_stay_invisible(
    api: Api, other_api: Api, db: Database
) -> None:
    body = simple_body()
    await create(api, body)
    before = await library_digest(db, api.org)
    foreign = f"/organizations/{api.org}/products"
    assert_error(await other_api.get(foreign), 403, "FORBIDDEN")
    assert_error(await other_api.get(f"{foreign}/{body['uuid']}"), 403, "FORBIDDEN")
    assert_error(await other_api.post(foreign, json=simple_body()), 403, "FORBIDDEN")
    assert_error(await other_api.put(f"{foreign}/v2/{body['uuid']}", json={"name": "x"}), 403, "FORBIDDEN")
    assert_error(await other_api.delete(f"{foreign}/{body['uuid']}"), 403, "FORBIDDEN")
    assert_error(await other_api.get(f"{PRODUCTS}/{body['uuid']}"), 404, "ENTITY_NOT_FOUND")
    assert (await other_api.get(PRODUCTS)).json() == []
    # the same product UUID is free in the other organization
    assert (await other_api.post(PRODUCTS, json=body)).status_code == 201
    assert await library_digest(db, api.org) == before


async def test_reads_need_read_product_and_writes_write_product(api: Api) -> None:
    body = simple_body()
    api.scopes = "READ:PRODUCT"
    assert_error(await api.post(PRODUCTS, json=body), 403, "FORBIDDEN")
    api.scopes = "WRITE:PRODUCT"
    assert (await api.post(PRODUCTS, json=body)).status_code == 201
    assert_error(await api.get(f"{PRODUCTS}/{body['uuid']}"), 403, "FORBIDDEN")
    assert_error(await api.get(f"{PRODUCTS}/v2/count"), 403, "FORBIDDEN")
    assert (await api.client.get(PRODUCTS)).status_code == 401


async def test_get_and_delete_bodies_and_if_match_on_post_get_delete_are_ignored(api: Api) -> None:
    body = simple_body()
    junk = {"IF-Match": "*", "Content-Type": "application/json"}
    response = await api.post(PRODUCTS, json=body, headers={"IF-Match": '"DEADBEEF"'})
    assert response.status_code == 201
    got = await api.request("GET", f"{PRODUCTS}/{body['uuid']}", content=b"[]", headers=junk)
    assert got.status_code == 200
    listed = await api.request("GET", PRODUCTS, content=b"{oops", headers=junk)
    assert listed.status_code == 200
    deleted = await api.request(
        "DELETE", f"{PRODUCTS}/{body['uuid']}", content=b"[]", headers={**junk, "IF-Match": '"0"'}
    )
    assert deleted.status_code == 204


async def test_literal_segments_are_not_read_as_product_uuids(api: Api) -> None:
    await create(api, simple_body())
    assert isinstance((await api.get(f"{PRODUCTS}/v2")).json(), list)
    assert (await api.get(f"{PRODUCTS}/v2/count")).json() == {"productCount": 1}
    assert_error(await api.get(f"{PRODUCTS}/not-a-uuid"), 400, "VALIDATION_ERROR")


async def test_options_aggregates_the_options_variants_use(api: Api) -> None:
    await create(api, product_body())
    await create(
        api, simple_body(variants=[{"uuid": new_uuid(), "options": [{"name": "Colour", "value": "Red"}]}])
    )
    response = await api.get(f"{PRODUCTS}/options/")
    assert response.status_code == 200
    assert response.json() == [
        {"options": [{"name": "Size", "values": ["S", "M"]}, {"name": "Colour", "values": ["Red"]}]}
    ]


async def test_concurrent_creates_of_one_uuid_or_one_variant_create_exactly_one(api: Api) -> None:
    body = simple_body()
    answers = await asyncio.gather(*(api.post(PRODUCTS, json=body) for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [201, 400, 400, 400]
    shared = new_uuid()
    bodies = [simple_body(variants=[{"uuid": shared}]) for _ in range(4)]
    answers = await asyncio.gather(*(api.post(PRODUCTS, json=b) for b in bodies))
    assert sorted(r.status_code for r in answers) == [201, 400, 400, 400]
    assert (await api.get(f"{PRODUCTS}/v2/count")).json() == {"productCount": 2}
