"""Custom low-stock levels (spec §6): the six Zettle endpoints, ETags, validation, scopes, isolation."""

from __future__ import annotations

from typing import Any

import pytest

from stockledger.store.db import Database
from tests.api.low_stock_support import UNKNOWN_LOCATION, base, configs, fetch, put, stored_rows
from tests.conftest import Api, new_uuid


async def test_put_then_get_shows_level_as_json_number_and_alert(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product, variant = new_uuid(), new_uuid()
    await put(api, store, product.upper(), variant, lowStockLevel=5, lowStockAlert=True)

    response = await api.get(fetch(store))
    assert response.status_code == 200
    assert b'"customLowStockLevel":5.0' in response.content
    assert response.json() == {
        "organizationUuid": api.org,
        "locationUuid": store,
        "customLowStockLevelsForProducts": [
            {
                "productUuid": product,
                "customLowStockLevelForVariants": [
                    {"variantUuid": variant, "customLowStockLevel": 5.0, "lowStockAlert": True}
                ],
            }
        ],
    }


async def test_product_fetch_lists_its_variants_sorted_and_empty_when_none(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product, other = new_uuid(), new_uuid()
    v1, v2 = sorted([new_uuid(), new_uuid()])
    await put(api, store, product, v2, lowStockLevel="2.5")
    await put(api, store, product, v1, lowStockLevel="0.125", lowStockAlert=True)
    await put(api, store, other, new_uuid(), lowStockAlert=True)

    response = await api.get(f"{fetch(store)}/products/{product}")
    assert response.status_code == 200
    assert response.json() == {
        "productUuid": product,
        "customLowStockLevelForVariants": [
            {"variantUuid": v1, "customLowStockLevel": 0.125, "lowStockAlert": True},
            {"variantUuid": v2, "customLowStockLevel": 2.5, "lowStockAlert": False},
        ],
    }
    unknown = new_uuid()
    response = await api.get(f"{fetch(store)}/products/{unknown}")
    assert response.status_code == 200
    assert response.json() == {"productUuid": unknown, "customLowStockLevelForVariants": []}
    assert response.headers["etag"]


async def test_alert_without_level_is_stored_with_null_level(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product, variant = new_uuid(), new_uuid()
    await put(api, store, product, variant, lowStockAlert=True)
    variants = (await configs(api, store))[0]["customLowStockLevelForVariants"]
    assert variants == [{"variantUuid": variant, "customLowStockLevel": None, "lowStockAlert": True}]


async def test_configuration_equal_to_defaults_is_deleted_not_stored(api: Api, db: Database) -> None:
    store = (await api.locations())["STORE"]
    product, variant = new_uuid(), new_uuid()
    await put(api, store, product, variant, lowStockLevel=3, lowStockAlert=True)
    assert await stored_rows(db, api.org) == 1

    await put(api, store, product, variant, lowStockLevel=None, lowStockAlert=False)
    assert await configs(api, store) == []
    assert await stored_rows(db, api.org) == 0

    await put(api, store, product, variant)  # omitted fields are the defaults too
    assert await stored_rows(db, api.org) == 0


async def test_level_zero_with_alert_off_is_kept(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product, variant = new_uuid(), new_uuid()
    await put(api, store, product, variant, lowStockLevel=0)
    variants = (await configs(api, store))[0]["customLowStockLevelForVariants"]
    assert variants == [{"variantUuid": variant, "customLowStockLevel": 0.0, "lowStockAlert": False}]


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("lowStockLevel", -1, "lowStockLevel"),
        ("lowStockLevel", "1.2345", "lowStockLevel"),
        ("lowStockLevel", "abc", "lowStockLevel"),
        ("lowStockAlert", "yes", "lowStockAlert"),
        ("productUuid", "not-a-uuid", "productUuid"),
        ("variantUuid", None, "variantUuid"),
    ],
)
async def test_put_rejects_invalid_fields_and_stores_nothing(
    api: Api, db: Database, field: str, value: Any, path: str
) -> None:
    store = (await api.locations())["STORE"]
    body = {"productUuid": new_uuid(), "variantUuid": new_uuid(), "lowStockLevel": 4, field: value}
    response = await api.put(base(store), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "VALIDATION_ERROR"
    assert [v["propertyName"] for v in response.json()["violations"]] == [path]
    assert await stored_rows(db, api.org) == 0


async def test_batch_post_stores_every_entry_last_one_wins(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product, v1, v2 = new_uuid(), new_uuid(), new_uuid()
    body = {
        "requests": [
            {"productUuid": product, "variantUuid": v1, "lowStockLevel": 1},
            {"productUuid": product, "variantUuid": v2, "lowStockLevel": "7.5", "lowStockAlert": True},
            {"productUuid": product, "variantUuid": v1, "lowStockLevel": 2, "lowStockAlert": True},
        ]
    }
    response = await api.post(base(store), json=body)
    assert response.status_code == 204, response.text
    variants = {
        v["variantUuid"]: (v["customLowStockLevel"], v["lowStockAlert"])
        for v in (await configs(api, store))[0]["customLowStockLevelForVariants"]
    }
    assert variants == {v1: (2.0, True), v2: (7.5, True)}


@pytest.mark.parametrize(
    ("bad_entry", "path"),
    [
        ({"variantUuid": "zzz"}, "requests[1].variantUuid"),
        ({"lowStockLevel": -0.5}, "requests[1].lowStockLevel"),
        ({"lowStockLevel": "3.0001"}, "requests[1].lowStockLevel"),
        ({"locationUuid": UNKNOWN_LOCATION}, "requests[1].locationUuid"),
    ],
)
async def test_batch_post_is_all_or_nothing(
    api: Api, db: Database, bad_entry: dict[str, Any], path: str
) -> None:
    store = (await api.locations())["STORE"]
    good = {"productUuid": new_uuid(), "variantUuid": new_uuid(), "lowStockLevel": 3, "lowStockAlert": True}
    bad = {**good, "variantUuid": new_uuid(), **bad_entry}
    response = await api.post(base(store), json={"requests": [good, bad, good]})
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "VALIDATION_ERROR"
    assert [v["propertyName"] for v in response.json()["violations"]] == [path]
    assert await stored_rows(db, api.org) == 0


async def test_batch_entry_location_applies_to_that_location(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    entry = {
        "productUuid": product,
        "variantUuid": variant,
        "lowStockAlert": True,
        "locationUuid": locs["BIN"],
    }
    response = await api.post(base(locs["STORE"]), json={"requests": [entry]})
    assert response.status_code == 204, response.text
    assert await configs(api, locs["STORE"]) == []
    assert (await configs(api, locs["BIN"]))[0]["productUuid"] == product


async def test_batch_over_the_limit_is_rejected(api: Api) -> None:
    store = (await api.locations())["STORE"]
    entry = {"productUuid": new_uuid(), "variantUuid": new_uuid(), "lowStockAlert": True}
    response = await api.post(base(store), json={"requests": [entry] * 1001})
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyName"] == "requests"


async def test_delete_single_answers_202_also_when_nothing_stored(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product, variant, kept = new_uuid(), new_uuid(), new_uuid()
    await put(api, store, product, variant, lowStockLevel=4)
    await put(api, store, product, kept, lowStockLevel=6)
    path = f"{base(store)}/products/{product}/variants/{variant}"
    response = await api.delete(path)
    assert response.status_code == 202 and response.content == b""
    variants = (await configs(api, store))[0]["customLowStockLevelForVariants"]
    assert [v["variantUuid"] for v in variants] == [kept]
    response = await api.delete(path)
    assert response.status_code == 202 and response.content == b""


async def test_batch_delete_removes_the_listed_variants(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product, v1, v2, v3 = new_uuid(), new_uuid(), new_uuid(), new_uuid()
    for variant in (v1, v2, v3):
        await put(api, store, product, variant, lowStockAlert=True)
    body = {
        "requests": [
            {"productUuid": product, "variantUuid": v1},
            {"productUuid": product, "variantUuid": v3},
            {"productUuid": new_uuid(), "variantUuid": new_uuid()},
        ]
    }
    response = await api.post(f"{base(store)}/delete", json=body)
    assert response.status_code == 202, response.text
    variants = (await configs(api, store))[0]["customLowStockLevelForVariants"]
    assert [v["variantUuid"] for v in variants] == [v2]

    response = await api.post(f"{base(store)}/delete", json={"requests": [{"productUuid": "x"}]})
    assert response.status_code == 400
    assert {v["propertyName"] for v in response.json()["violations"]} == {
        "requests[0].productUuid",
        "requests[0].variantUuid",
    }


def every_route(location: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    p, v = new_uuid(), new_uuid()
    entry = {"productUuid": p, "variantUuid": v, "lowStockAlert": True}
    return [
        ("PUT", base(location), entry),
        ("POST", base(location), {"requests": [entry]}),
        ("GET", fetch(location), None),
        ("GET", f"{fetch(location)}/products/{p}", None),
        ("DELETE", f"{base(location)}/products/{p}/variants/{v}", None),
        ("POST", f"{base(location)}/delete", {"requests": [{"productUuid": p, "variantUuid": v}]}),
        ("GET", f"/organizations/self/inventory/locations/{location}/low-stock", None),
    ]


async def test_unknown_location_is_404_and_malformed_is_400(api: Api) -> None:
    await api.locations()
    for method, path, body in every_route(UNKNOWN_LOCATION):
        response = await api.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["errorType"] == "ENTITY_NOT_FOUND"
    for method, path, body in every_route("not-a-uuid"):
        response = await api.request(method, path, json=body)
        assert response.status_code == 400, (method, path, response.text)
        assert response.json()["violations"][0]["propertyName"] == "locationUuid"


async def test_scopes_guard_every_route(api: Api) -> None:
    store = (await api.locations())["STORE"]
    read_only = Api(api.client, api.org, scopes="READ:PRODUCT")
    write_only = Api(api.client, api.org, scopes="WRITE:PRODUCT")
    for method, path, body in every_route(store):
        wrong = write_only if method == "GET" else read_only
        response = await wrong.request(method, path, json=body)
        assert response.status_code == 403, (method, path)
        assert response.json()["errorType"] == "FORBIDDEN"
        response = await api.client.request(method, path, json=body)
        assert response.status_code == 401, (method, path)
        right = read_only if method == "GET" else write_only
        response = await right.request(method, path, json=body)
        assert response.status_code in {200, 202, 204}, (method, path, response.text)


async def test_another_organization_never_sees_or_changes_the_configuration(api: Api, other_api: Api) -> None:
    store = (await api.locations())["STORE"]
    await other_api.locations()
    product, variant = new_uuid(), new_uuid()
    await put(api, store, product, variant, lowStockLevel=5, lowStockAlert=True)
    before = (await api.get(fetch(store))).json()
    for method, path, body in every_route(store):
        response = await other_api.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    response = await other_api.delete(f"{base(store)}/products/{product}/variants/{variant}")
    assert response.status_code == 404
    response = await other_api.get(f"/organizations/{api.org}/inventory/locations/{store}/low-stock")
    assert response.status_code == 403
    assert (await api.get(fetch(store))).json() == before


async def test_trailing_slash_is_accepted(api: Api) -> None:
    store = (await api.locations())["STORE"]
    await put(api, store, new_uuid(), new_uuid(), lowStockAlert=True)
    response = await api.get(fetch(store) + "/")
    assert response.status_code == 200
    assert len(response.json()["customLowStockLevelsForProducts"]) == 1


async def test_openapi_documents_every_low_stock_route(api: Api) -> None:
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    assert set(paths["/custom-low-stock/locations/{locationUuid}"]) == {"put", "post"}
    assert "304" in paths["/custom-low-stock/v2/locations/{locationUuid}"]["get"]["responses"]
    assert "get" in paths["/custom-low-stock/v2/locations/{locationUuid}/products/{productUuid}"]
    assert (
        "delete"
        in paths["/custom-low-stock/locations/{locationUuid}/products/{productUuid}/variants/{variantUuid}"]
    )
    assert "post" in paths["/custom-low-stock/locations/{locationUuid}/delete"]
    assert "get" in paths["/organizations/{org}/inventory/locations/{locationUuid}/low-stock"]
