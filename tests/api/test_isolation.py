"""Tenant isolation: organization B's token never reads nor writes organization A's data."""

from __future__ import annotations

from typing import Any

import pytest

from stockledger.store.db import Database
from tests.conftest import Api, new_uuid
from tests.ledger import snapshot


async def populated(api: Api) -> tuple[dict[str, str], str, str]:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    response = await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 8)
    assert response.status_code == 200
    return locs, product, variant


def org_routes(org: str, locs: dict[str, str], product: str, variant: str) -> list[tuple[str, str, Any]]:
    change = {
        "productUuid": product,
        "variantUuid": variant,
        "fromLocationUuid": locs["STORE"],
        "toLocationUuid": locs["BIN"],
        "change": 1,
    }
    base = f"/organizations/{org}"
    return [
        ("GET", f"{base}/locations", None),
        ("POST", f"{base}/inventory", {"productUuid": product}),
        ("DELETE", f"{base}/inventory/products/{product}", None),
        ("GET", f"{base}/inventory", None),
        ("GET", f"{base}/inventory/locations/{locs['STORE']}", None),
        ("GET", f"{base}/inventory/locations?type=STORE", None),
        ("POST", f"{base}/inventory/products", {"productUuids": [product]}),
        ("GET", f"{base}/inventory/locations/{locs['STORE']}/products/{product}", None),
        ("PUT", f"{base}/inventory", {"changes": [change]}),
        (
            "POST",
            f"{base}/v2/inventory/bulk",
            {
                "productChanges": [
                    {
                        "productUuid": product,
                        "variantChanges": [{k: v for k, v in change.items() if k != "productUuid"}],
                    }
                ]
            },
        ),
    ]


@pytest.mark.parametrize("case", ["lower", "upper"])
async def test_another_organizations_uuid_in_the_path_is_forbidden(
    api: Api, other_api: Api, db: Database, case: str
) -> None:
    locs, product, variant = await populated(api)
    before = await snapshot(db, api.org)
    org = api.org if case == "lower" else api.org.upper()
    for method, path, body in org_routes(org, locs, product, variant):
        response = await other_api.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["errorType"] == "FORBIDDEN"
        assert api.org not in response.text.replace(org, "")
    assert await snapshot(db, api.org) == before


@pytest.mark.parametrize("org", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
async def test_unknown_organization_in_the_path_is_forbidden(api: Api, org: str) -> None:
    response = await api.get(f"/organizations/{org}/inventory")
    assert response.status_code == 403


async def test_self_means_the_callers_own_empty_data(api: Api, other_api: Api, db: Database) -> None:
    locs, product, _ = await populated(api)
    before = await snapshot(db, api.org)
    own = await other_api.locations()
    assert set(own.values()).isdisjoint(locs.values())
    for path in (
        "/inventory",
        "/organizations/self/inventory",
        "/organizations/self/inventory/locations?type=SUPPLIER",
    ):
        body = (await other_api.get(path)).json()
        assert body["trackedProducts"] == [] and body["variants"] == [] and body["latest"] == 0
    body = (
        await other_api.post("/organizations/self/inventory/products", json={"productUuids": [product]})
    ).json()
    assert body["trackedProducts"] == [] and body["variants"] == []
    stop = await other_api.delete(f"/organizations/self/inventory/products/{product}")
    assert stop.status_code == 400 and stop.json()["errorType"] == "PRODUCT_NOT_TRACKED"
    assert await snapshot(db, api.org) == before
    assert (await api.get("/inventory")).json()["trackedProducts"] == [product]


async def test_another_organizations_location_in_the_path_is_not_found(api: Api, other_api: Api) -> None:
    locs, product, _ = await populated(api)
    for path in (
        f"/organizations/self/inventory/locations/{locs['STORE']}",
        f"/organizations/self/inventory/locations/{locs['SUPPLIER']}",
        f"/organizations/self/inventory/locations/{locs['STORE']}/products/{product}",
    ):
        response = await other_api.get(path)
        assert response.status_code == 404, path
        assert response.json()["errorType"] == "ENTITY_NOT_FOUND"


async def test_another_organizations_location_in_a_body_is_rejected(
    api: Api, other_api: Api, db: Database
) -> None:
    locs, product, variant = await populated(api)
    before = await snapshot(db, api.org)
    await other_api.track(product)  # B tracks a product with the same UUID: still B's own
    b_before = await snapshot(db, other_api.org)
    own = await other_api.locations()
    moved = await other_api.move(product, variant, locs["STORE"], own["SOLD"], 1)
    assert moved.status_code == 400
    assert moved.json()["violations"][0]["propertyName"] == "changes[0].fromLocationUuid"
    moved = await other_api.move(
        product, variant, own["SUPPLIER"], own["STORE"], 1, returnBalanceForLocationUuid=locs["STORE"]
    )
    assert moved.status_code == 400
    assert moved.json()["violations"][0]["propertyName"] == "returnBalanceForLocationUuid"
    query = await other_api.post(
        "/organizations/self/inventory/products",
        json={"productUuids": [product], "locationUuid": locs["STORE"]},
    )
    assert query.status_code == 400
    bulk = {
        "productChanges": [
            {
                "productUuid": product,
                "variantChanges": [
                    {
                        "variantUuid": variant,
                        "fromLocationUuid": own["SUPPLIER"],
                        "toLocationUuid": locs["STORE"],
                        "change": 1,
                    }
                ],
            }
        ]
    }
    assert (await other_api.post("/organizations/self/v2/inventory/bulk", json=bulk)).status_code == 400
    assert await snapshot(db, api.org) == before
    assert await snapshot(db, other_api.org) == b_before


async def test_same_product_uuid_in_two_organizations_stays_separate(api: Api, other_api: Api) -> None:
    locs, product, variant = await populated(api)
    await other_api.track(product)
    own = await other_api.locations()
    assert (await other_api.move(product, variant, own["SUPPLIER"], own["STORE"], 3)).status_code == 200
    mine = (await api.get("/inventory")).json()["variants"]
    theirs = (await other_api.get("/inventory")).json()["variants"]
    assert [r["balance"] for r in mine] == ["8"] and [r["balance"] for r in theirs] == ["3"]
    assert mine[0]["locationUuid"] == locs["STORE"] and theirs[0]["locationUuid"] == own["STORE"]
