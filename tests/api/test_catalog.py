"""The catalog extension: PUT and GET /organizations/{org}/catalog/products/{productUuid}."""

from __future__ import annotations

from tests.conftest import Api, new_uuid


async def test_put_stores_names_and_answers_the_stored_entry(api: Api) -> None:
    product, small, large = new_uuid(), new_uuid(), new_uuid()
    body = {
        "name": "T-shirt",
        "variants": [
            {"uuid": large.upper(), "name": "Large", "sku": "TEE-L", "barcode": "7312345678901"},
            {"uuid": small, "name": "Small"},
        ],
    }
    response = await api.put(f"/organizations/self/catalog/products/{product}", json=body)
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["productUuid"] == product and stored["name"] == "T-shirt"
    by_uuid = {v["uuid"]: v for v in stored["variants"]}
    assert by_uuid[large] == {"uuid": large, "name": "Large", "sku": "TEE-L", "barcode": "7312345678901"}
    assert by_uuid[small] == {"uuid": small, "name": "Small", "sku": None, "barcode": None}
    fetched = await api.get(f"/organizations/{api.org}/catalog/products/{product}")
    assert fetched.status_code == 200 and fetched.json() == stored


async def test_put_replaces_the_variant_list(api: Api) -> None:
    product, first, second = new_uuid(), new_uuid(), new_uuid()
    path = f"/organizations/self/catalog/products/{product}"
    await api.put(path, json={"name": "Mug", "variants": [{"uuid": first, "name": "Blue"}]})
    response = await api.put(path, json={"name": "Mug 2", "variants": [{"uuid": second, "name": "Red"}]})
    assert response.json()["name"] == "Mug 2"
    assert [v["uuid"] for v in response.json()["variants"]] == [second]


async def test_get_of_an_unknown_product_is_404(api: Api) -> None:
    response = await api.get(f"/organizations/self/catalog/products/{new_uuid()}")
    assert response.status_code == 404
    assert response.json()["errorType"] == "ENTITY_NOT_FOUND"


async def test_bad_bodies_are_rejected_with_violations_and_store_nothing(api: Api) -> None:
    product = new_uuid()
    path = f"/organizations/self/catalog/products/{product}"
    cases = [
        ({"variants": []}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "ok", "variants": [{"uuid": "nope"}]}, "variants[0].uuid"),
        ({"name": "ok", "variants": [{"uuid": product}, {"uuid": product}]}, "variants[1].uuid"),
    ]
    for body, prop in cases:
        response = await api.put(path, json=body)
        assert response.status_code == 400, body
        assert response.json()["violations"][0]["propertyName"] == prop
    assert (
        await api.put("/organizations/self/catalog/products/not-a-uuid", json={"name": "x"})
    ).status_code == 400
    assert (await api.get(path)).status_code == 404


async def test_catalog_needs_the_product_scopes_and_the_own_organization(api: Api, other_api: Api) -> None:
    product = new_uuid()
    path = f"/organizations/self/catalog/products/{product}"
    api.scopes = "READ:PRODUCT"
    assert (await api.put(path, json={"name": "x"})).status_code == 403
    api.scopes = "WRITE:PRODUCT"
    assert (await api.put(path, json={"name": "x"})).status_code == 200
    assert (await api.get(path)).status_code == 403
    other = await other_api.get(f"/organizations/{api.org}/catalog/products/{product}")
    assert other.status_code == 403
    assert (await other_api.get(path)).status_code == 404  # the other org has no such entry
    assert (await api.client.get(path)).status_code == 401
