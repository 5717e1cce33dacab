"""Every validation rule of spec §3/§5 answers 400 naming the offending property, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store.db import Database
from tests.conftest import Api, new_uuid
from tests.ledger import snapshot

PUT = "/organizations/self/inventory"
BULK = "/organizations/self/v2/inventory/bulk"


async def setup(api: Api) -> tuple[dict[str, str], str, dict[str, Any]]:
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    change = {
        "productUuid": product,
        "variantUuid": new_uuid(),
        "fromLocationUuid": locs["SUPPLIER"],
        "toLocationUuid": locs["STORE"],
        "change": 1,
    }
    return locs, product, change


async def assert_rejected(
    api: Api, db: Database, method: str, path: str, expected_property: str | None, **kwargs: Any
) -> dict[str, Any]:
    before = await snapshot(db, api.org)
    response = await api.request(method, path, **kwargs)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["errorType"] in {"VALIDATION_ERROR", "PRODUCT_NOT_TRACKED"}
    assert isinstance(body["developerMessage"], str) and body["developerMessage"]
    if expected_property is not None:
        names = [v["propertyName"] for v in body["violations"]]
        assert expected_property in names, names
    assert await snapshot(db, api.org) == before
    return body


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (0, "zero"),
        (-1, "negative"),
        ("-2.5", "negative string"),
        ("1.2345", "four fraction digits"),
        (1.2345, "four fraction digits as a number"),
        (1e12, "too large"),
        ("1000000000000", "too large string"),
        ("1e3", "exponent string"),
        ("NaN", "NaN string"),
        ("Infinity", "Infinity string"),
        ("abc", "not a number"),
        ("", "empty string"),
        (True, "boolean"),
        (None, "null"),
        ([1], "list"),
    ],
)
async def test_bad_change_quantity_names_the_second_change(
    api: Api, db: Database, change: Any, reason: str
) -> None:
    _, _, good = await setup(api)
    body = {"changes": [good, {**good, "change": change}]}
    await assert_rejected(api, db, "PUT", PUT, "changes[1].change", json=body)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_non_json_number_constants_are_malformed_json(api: Api, db: Database, literal: str) -> None:
    _, _, good = await setup(api)
    change = {k: v for k, v in good.items() if k != "change"}
    prefix = json.dumps({"changes": [change]})[: -len("}]}")]
    accepted = await api.put(
        PUT, content=prefix + ', "change": 1}]}', headers={"Content-Type": "application/json"}
    )
    assert accepted.status_code == 200, accepted.text
    text = prefix + f', "change": {literal}}}]}}'
    await assert_rejected(
        api, db, "PUT", PUT, None, content=text, headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize("content", ['{"changes": [', "not json", b"\xff\xfe"])
async def test_malformed_json_is_rejected(api: Api, db: Database, content: Any) -> None:
    await assert_rejected(
        api, db, "PUT", PUT, None, content=content, headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize("body", [[], "text", 3, None])
async def test_body_that_is_not_an_object_is_rejected(api: Api, db: Database, body: Any) -> None:
    await assert_rejected(api, db, "PUT", PUT, None, json=body)


@pytest.mark.parametrize(
    "field", ["productUuid", "variantUuid", "fromLocationUuid", "toLocationUuid", "change"]
)
async def test_missing_change_field_is_named(api: Api, db: Database, field: str) -> None:
    _, _, good = await setup(api)
    broken = {k: v for k, v in good.items() if k != field}
    await assert_rejected(api, db, "PUT", PUT, f"changes[0].{field}", json={"changes": [broken]})


async def test_missing_changes_is_named(api: Api, db: Database) -> None:
    await assert_rejected(api, db, "PUT", PUT, "changes", json={})


async def test_changes_of_wrong_type_is_named(api: Api, db: Database) -> None:
    await assert_rejected(api, db, "PUT", PUT, "changes", json={"changes": {"a": 1}})


@pytest.mark.parametrize("field", ["productUuid", "variantUuid", "fromLocationUuid", "toLocationUuid"])
@pytest.mark.parametrize("value", ["not-a-uuid", 12, "0123456789abcdef0123456789abcdef0"])
async def test_bad_uuid_is_named(api: Api, db: Database, field: str, value: Any) -> None:
    _, _, good = await setup(api)
    await assert_rejected(
        api, db, "PUT", PUT, f"changes[0].{field}", json={"changes": [{**good, field: value}]}
    )


async def test_same_from_and_to_location_is_rejected(api: Api, db: Database) -> None:
    locs, _, good = await setup(api)
    body = {"changes": [{**good, "fromLocationUuid": locs["STORE"], "toLocationUuid": locs["STORE"].upper()}]}
    await assert_rejected(api, db, "PUT", PUT, "changes[0].toLocationUuid", json=body)


async def test_unknown_location_is_rejected(api: Api, db: Database) -> None:
    _, _, good = await setup(api)
    await assert_rejected(
        api,
        db,
        "PUT",
        PUT,
        "changes[0].toLocationUuid",
        json={"changes": [{**good, "toLocationUuid": new_uuid()}]},
    )
    await assert_rejected(
        api,
        db,
        "PUT",
        PUT,
        "changes[0].fromLocationUuid",
        json={"changes": [{**good, "fromLocationUuid": new_uuid()}]},
    )


async def test_untracked_product_is_rejected(api: Api, db: Database) -> None:
    _, _, good = await setup(api)
    body = await assert_rejected(
        api, db, "PUT", PUT, "changes[0].productUuid", json={"changes": [{**good, "productUuid": new_uuid()}]}
    )
    assert body["errorType"] == "PRODUCT_NOT_TRACKED"


async def test_unknown_return_location_is_rejected(api: Api, db: Database) -> None:
    _, _, good = await setup(api)
    body = {"changes": [good], "returnBalanceForLocationUuid": new_uuid()}
    await assert_rejected(api, db, "PUT", PUT, "returnBalanceForLocationUuid", json=body)
    body = {"changes": [good], "returnBalanceForLocationUuid": "nope"}
    await assert_rejected(api, db, "PUT", PUT, "returnBalanceForLocationUuid", json=body)


async def test_external_uuid_over_255_characters_is_rejected(api: Api, db: Database) -> None:
    _, _, good = await setup(api)
    await assert_rejected(
        api, db, "PUT", PUT, "externalUuid", json={"changes": [good], "externalUuid": "x" * 256}
    )
    ok = await api.put(PUT, json={"changes": [good], "externalUuid": "x" * 255})
    assert ok.status_code == 200


async def test_more_than_1000_changes_are_rejected(api: Api, db: Database) -> None:
    _, _, good = await setup(api)
    await assert_rejected(api, db, "PUT", PUT, "changes", json={"changes": [good] * 1001})


@pytest_asyncio.fixture(loop_scope="session")
async def small_limit_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.with_overrides(max_changes=2), db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http


async def test_change_limit_is_configurable(small_limit_client: httpx.AsyncClient, db: Database) -> None:
    api = Api(small_limit_client, new_uuid())
    _, product, good = await setup(api)
    assert (await api.put(PUT, json={"changes": [good] * 2})).status_code == 200
    await assert_rejected(api, db, "PUT", PUT, "changes", json={"changes": [good] * 3})
    bulk = {"productChanges": [{"productUuid": product, "variantChanges": [{**good, "change": 1}] * 3}]}
    await assert_rejected(api, db, "POST", BULK, "productChanges", json=bulk)


async def test_bulk_names_the_nested_variant_change(api: Api, db: Database) -> None:
    _, product, good = await setup(api)
    variant_change = {k: v for k, v in good.items() if k != "productUuid"}
    body = {
        "productChanges": [
            {"productUuid": product, "variantChanges": [variant_change, {**variant_change, "change": -1}]}
        ]
    }
    await assert_rejected(api, db, "POST", BULK, "productChanges[0].variantChanges[1].change", json=body)
    body = {
        "productChanges": [
            {
                "productUuid": product,
                "variantChanges": [{**variant_change, "toLocationUuid": good["fromLocationUuid"]}],
            }
        ]
    }
    await assert_rejected(
        api, db, "POST", BULK, "productChanges[0].variantChanges[0].toLocationUuid", json=body
    )
    body = {"productChanges": [{"productUuid": product, "trackingStatusChange": "PAUSE"}]}
    await assert_rejected(api, db, "POST", BULK, "productChanges[0].trackingStatusChange", json=body)
    body = {"productChanges": [{"productUuid": "bad"}]}
    await assert_rejected(api, db, "POST", BULK, "productChanges[0].productUuid", json=body)
    body = {
        "productChanges": [
            {"productUuid": product, "variantChanges": [{**variant_change, "fromLocationUuid": new_uuid()}]}
        ]
    }
    await assert_rejected(
        api, db, "POST", BULK, "productChanges[0].variantChanges[0].fromLocationUuid", json=body
    )


async def test_start_tracking_requires_a_product_uuid(api: Api, db: Database) -> None:
    await assert_rejected(api, db, "POST", "/organizations/self/inventory", "productUuid", json={})
    await assert_rejected(
        api, db, "POST", "/organizations/self/inventory", "productUuid", json={"productUuid": "x"}
    )


async def test_products_query_validates_its_body(api: Api) -> None:
    path = "/organizations/self/inventory/products"
    for body, prop in [
        ({}, "productUuids"),
        ({"productUuids": ["x"]}, "productUuids[0]"),
        ({"productUuids": [], "locationType": "SHELF"}, "locationType"),
        ({"productUuids": [], "locationUuid": new_uuid()}, "locationUuid"),
    ]:
        response = await api.post(path, json=body)
        assert response.status_code == 400, body
        assert prop in [v["propertyName"] for v in response.json()["violations"]]


async def test_bad_uuid_in_path_is_rejected(api: Api) -> None:
    locs = await api.locations()
    response = await api.get(f"/organizations/self/inventory/locations/{locs['STORE']}/products/not-a-uuid")
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyName"] == "productUuid"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_body_not_declared_as_json_says_how_to_send_it(
    api: Api, db: Database, content_type: str
) -> None:
    _, _, good = await setup(api)
    body = await assert_rejected(
        api,
        db,
        "PUT",
        PUT,
        None,
        content=json.dumps({"changes": [good]}),
        headers={"Content-Type": content_type},
    )
    assert "application/json" in body["developerMessage"]
    accepted = await api.put(PUT, content=json.dumps({"changes": [good]}), headers={"Content-Type": ""})
    assert accepted.status_code == 200, accepted.text
