"""Product Library updates: `PUT …/products/v2/{uuid}` (product-library-api §1.5, §3.5) and the
legacy variant calls (§3.8)."""

from __future__ import annotations

import copy
from typing import Any

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


def v2(uuid: str) -> str:
    return f"{PRODUCTS}/v2/{uuid}"


@pytest.mark.parametrize(
    "if_match",
    [None, "*", '"{etag}"', "{etag}", 'W/"{etag}"', '"{lower}"', '"0000", "{etag}"'],
    ids=["absent", "star", "quoted", "raw", "weak", "any-case", "list"],
)
async def test_put_passes_with_every_form_of_the_current_etag(api: Api, if_match: str | None) -> None:
    entity = await create(api, simple_body())
    headers = {}
    if if_match is not None:
        headers["If-Match"] = if_match.format(etag=entity["etag"], lower=entity["etag"].lower())
    response = await api.put(v2(entity["uuid"]), json={"name": "Cup"}, headers=headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "Cup" and updated["etag"] != entity["etag"]
    assert response.headers["etag"] == f'"{updated["etag"]}"'
    assert response.headers["location"].endswith(f"/organizations/{api.org}/products/{entity['uuid']}")
    assert (await api.get(f"{PRODUCTS}/{entity['uuid']}")).json() == updated


async def test_put_with_a_stale_etag_is_412_without_a_body_and_changes_nothing(
    api: Api, db: Database
) -> None:
    entity = await create(api, simple_body())
    await api.put(v2(entity["uuid"]), json={"name": "Newer"})
    before = await library_digest(db, api.org)
    response = await api.put(
        v2(entity["uuid"]), json={"name": "Lost"}, headers={"If-Match": f'"{entity["etag"]}"'}
    )
    assert response.status_code == 412
    assert response.content == b""
    assert await library_digest(db, api.org) == before


@pytest.mark.parametrize("if_match", [None, "*", '"D3605CCA2DDF8F2E471663C241F2DB16"'])
async def test_put_on_a_missing_product_is_entity_not_found_whatever_if_match_says(
    api: Api, if_match: str | None
) -> None:
    headers = {"If-Match": if_match} if if_match else {}
    response = await api.put(v2(new_uuid()), json=simple_body(), headers=headers)
    assert_error(response, 404, "ENTITY_NOT_FOUND")


async def test_the_put_etag_is_the_etag_of_the_updated_event(api: Api, db: Database) -> None:
    entity = await create(api, simple_body())
    response = await api.put(v2(entity["uuid"]), json={"name": "Cup"}, headers={"If-Match": "*"})
    new_etag = response.headers["etag"].strip('"')
    name, payload = (await product_events(db, api.org))[-1]
    assert name == "ProductUpdated"
    assert payload["newEntity"]["etag"] == new_etag == response.json()["etag"]
    assert payload["oldEntity"]["etag"] == entity["etag"]
    assert payload["newEntity"]["name"] == "Cup" and payload["oldEntity"]["name"] == "Mug"
    assert payload["organizationUuid"] == api.org


async def test_put_merges_a_patch_and_null_removes(api: Api) -> None:
    entity = await create(api, product_body())
    patch = {
        "description": None,
        "presentation": {"backgroundColor": "#123456"},
        "externalReference": "ID:43",
        "online": {"description": "Softer"},
    }
    updated = (await api.put(v2(entity["uuid"]), json=patch)).json()
    assert updated["description"] is None
    assert updated["presentation"] == {**entity["presentation"], "backgroundColor": "#123456"}
    assert updated["externalReference"] == "ID:43"
    assert updated["online"] == {**entity["online"], "description": "Softer"}
    unchanged = {"name", "category", "variants", "imageLookupKeys", "vatPercentage", "metadata", "unitName"}
    assert {k: updated[k] for k in unchanged} == {k: entity[k] for k in unchanged}


async def test_variants_are_merged_by_uuid_in_body_order_and_unlisted_ones_removed(api: Api) -> None:
    body = product_body()
    small, medium = body["variants"]
    body["variants"].append({"uuid": new_uuid(), "name": "Gone"})
    entity = await create(api, body)
    added = new_uuid()
    patch = {
        "variants": [
            {"uuid": medium["uuid"].upper()},  # kept as it is, price included
            {"uuid": small["uuid"], "price": {"amount": 25000}, "costPrice": None},
            {"uuid": added, "name": "New", "options": [{"name": "Size", "value": "S"}]},
        ]
    }
    updated = (await api.put(v2(entity["uuid"]), json=patch)).json()
    assert [v["uuid"] for v in updated["variants"]] == [medium["uuid"], small["uuid"], added]
    stored_medium, stored_small, new = updated["variants"]
    assert stored_medium == entity["variants"][1]
    assert stored_small["price"] == {"amount": 25000, "currencyId": "SEK"}
    assert stored_small["costPrice"] is None and stored_small["sku"] == "TEE-S"
    assert new["name"] == "New" and new["price"] is None


async def test_read_only_members_and_a_null_or_equal_uuid_are_ignored(api: Api) -> None:
    entity = await create(api, simple_body())
    for extra in ({"uuid": None}, {"uuid": entity["uuid"].upper()}, {}):
        patch = {
            **extra,
            "etag": "X",
            "updated": "x",
            "updatedAt": "x",
            "createdAt": "x",
            "created": "x",
            "name": "N",
        }
        response = await api.put(v2(entity["uuid"]), json=patch)
        assert response.status_code == 200, response.text
        assert response.json()["created"] == entity["created"]


@pytest.mark.parametrize(
    ("patch", "prop"),
    [
        ({"uuid": "0b3a8a52-7d61-1a0e-9d2e-5c6f1e4b9a10"}, "uuid"),
        ({"variants": None}, "variants"),
        ({"variants": []}, "variants"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"variants": [{"uuid": "{v}", "price": {"amount": -5}}]}, "variants[0].price.amount"),
        ({"variants": [{"uuid": "{v}", "price": {"amount": 12.5}}]}, "variants[0].price.amount"),
        (
            {"variants": [{"uuid": "{v}", "options": [{"name": "Size", "value": "XXL"}]}]},
            "variants[0].options[0].value",
        ),
        ({"vatPercentage": -1}, "vatPercentage"),
    ],
)
async def test_an_invalid_update_is_400_and_changes_nothing(
    api: Api, db: Database, patch: dict[str, Any], prop: str
) -> None:
    entity = await create(api, product_body())
    variant = entity["variants"][0]["uuid"]
    if patch.get("variants"):
        patch = {"variants": [{**patch["variants"][0], "uuid": variant}]}
    before = await library_digest(db, api.org)
    response = await api.put(v2(entity["uuid"]), json=patch)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["violations"][0]["propertyName"] == prop
    assert await library_digest(db, api.org) == before


async def test_a_put_that_changes_nothing_keeps_the_etag_and_emits_nothing(api: Api, db: Database) -> None:
    entity = await create(api, product_body())
    events = len(await product_events(db, api.org))
    response = await api.put(
        v2(entity["uuid"]), json={"name": entity["name"], "variants": entity["variants"]}
    )
    assert response.status_code == 200
    assert response.json() == entity and response.headers["etag"] == f'"{entity["etag"]}"'
    assert len(await product_events(db, api.org)) == events


async def test_a_full_body_put_like_a_woocommerce_client_sends_it(api: Api) -> None:
    entity = await create(api, product_body())
    body = {**copy.deepcopy(entity), "updatedAt": entity["updated"], "createdAt": entity["created"]}
    body["name"] = "T-shirt 2"
    for variant in body["variants"]:
        variant["defaultQuantity"] = 1
    response = await api.put(v2(entity["uuid"]), json=body, headers={"If-Match": f'"{entity["etag"]}"'})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "T-shirt 2"
    assert response.json()["variants"] == entity["variants"]


# ---- legacy variant calls ------------------------------------------------------------------------


async def test_legacy_variant_calls_add_update_and_remove_variants(api: Api, db: Database) -> None:
    entity = await create(api, simple_body())
    variants = f"{PRODUCTS}/{entity['uuid']}/variants"
    added = new_uuid()
    response = await api.post(
        variants, json={"uuid": added, "name": "Large", "price": {"amount": 1, "currencyId": "SEK"}}
    )
    assert response.status_code == 201 and response.content == b""
    response = await api.put(f"{variants}/{added}", json={"name": "XL"})
    assert response.status_code == 204
    product = (await api.get(f"{PRODUCTS}/{entity['uuid']}")).json()
    assert [(v["uuid"], v["name"]) for v in product["variants"]][1] == (added, "XL")
    assert product["variants"][1]["price"] == {"amount": 1, "currencyId": "SEK"}
    assert (await api.delete(f"{variants}/{added}")).status_code == 204
    assert len((await api.get(f"{PRODUCTS}/{entity['uuid']}")).json()["variants"]) == 1
    names = [name for name, _ in await product_events(db, api.org)]
    assert names == ["ProductCreated", "ProductUpdated", "ProductUpdated", "ProductUpdated"]


async def test_legacy_variant_calls_refuse_what_they_cannot_do(api: Api) -> None:
    entity = await create(api, simple_body())
    only = entity["variants"][0]["uuid"]
    variants = f"{PRODUCTS}/{entity['uuid']}/variants"
    assert_error(await api.post(variants, json={"uuid": only}), 400, "VALIDATION_ERROR")
    bad = await api.post(variants, json={"uuid": new_uuid(), "price": {"amount": -1, "currencyId": "SEK"}})
    assert assert_error(bad, 400, "VALIDATION_ERROR")["violations"][0]["propertyName"] == "price.amount"
    assert_error(await api.delete(f"{variants}/{only}"), 400, "VALIDATION_ERROR")
    assert_error(await api.put(f"{variants}/{new_uuid()}", json={"name": "x"}), 404, "ENTITY_NOT_FOUND")
    assert_error(
        await api.post(f"{PRODUCTS}/{new_uuid()}/variants", json={"uuid": new_uuid()}),
        404,
        "ENTITY_NOT_FOUND",
    )
