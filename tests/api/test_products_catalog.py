"""One catalogue: the catalog extension and names learnt from purchases read and write the Product
Library's products (and the library's products are the catalog's entries)."""

from __future__ import annotations

import json

from stockledger.domain.accounts import Role
from stockledger.store.db import Database
from tests.api.product_helpers import PRODUCTS, create, product_body, product_events, simple_body
from tests.api.purchase_helpers import FIXTURE_LINES, events
from tests.api.test_errors import assert_error
from tests.conftest import Api, new_uuid
from tests.web.conftest import add_person, sign_in


def catalog_path(product: str) -> str:
    return f"/organizations/self/catalog/products/{product}"


async def test_a_library_product_is_the_catalog_entry(api: Api) -> None:
    entity = await create(api, product_body())
    entry = (await api.get(catalog_path(entity["uuid"]))).json()
    assert entry == {
        "productUuid": entity["uuid"],
        "name": "T-shirt",
        "variants": [
            {"uuid": v["uuid"], "name": v["name"], "sku": v["sku"], "barcode": v["barcode"]}
            for v in entity["variants"]
        ],
    }


async def test_a_catalog_entry_is_a_library_product(api: Api, db: Database) -> None:
    product, variant = new_uuid(), new_uuid()
    body = {
        "name": "Candle",
        "variants": [{"uuid": variant, "name": "Vanilla", "sku": "CAN-V", "barcode": "501"}],
    }
    assert (await api.put(catalog_path(product), json=body)).status_code == 200
    entity = (await api.get(f"{PRODUCTS}/{product}")).json()
    assert entity["name"] == "Candle"
    assert [(v["uuid"], v["name"], v["sku"], v["barcode"]) for v in entity["variants"]] == [
        (variant, "Vanilla", "CAN-V", "501")
    ]
    assert (await api.get(f"{PRODUCTS}/v2/count")).json() == {"productCount": 1}
    assert [name for name, _ in await product_events(db, api.org)] == ["ProductCreated"]


async def test_a_catalog_put_keeps_what_the_catalog_does_not_speak_of(api: Api, db: Database) -> None:
    entity = await create(api, product_body())
    small = entity["variants"][0]
    body = {"name": "Tee", "variants": [{"uuid": small["uuid"], "name": "S", "sku": "S1"}]}
    assert (await api.put(catalog_path(entity["uuid"]), json=body)).status_code == 200
    now = (await api.get(f"{PRODUCTS}/{entity['uuid']}")).json()
    assert now["name"] == "Tee" and now["description"] == entity["description"]
    (variant,) = now["variants"]
    assert variant == {**small, "name": "S", "sku": "S1", "barcode": None}
    name, payload = (await product_events(db, api.org))[-1]
    assert name == "ProductUpdated" and payload["newEntity"]["etag"] == now["etag"]
    # the same names again change nothing
    assert (await api.put(catalog_path(entity["uuid"]), json=body)).status_code == 200
    assert (await api.get(f"{PRODUCTS}/{entity['uuid']}")).json()["etag"] == now["etag"]


async def test_a_catalog_entry_without_variants_is_a_library_product_with_its_default_variant(
    api: Api,
) -> None:
    product = new_uuid()
    assert (await api.put(catalog_path(product), json={"name": "Voucher"})).status_code == 200
    entity = (await api.get(f"{PRODUCTS}/{product}")).json()
    assert len(entity["variants"]) == 1 and entity["variants"][0]["name"] is None
    assert (await api.get(catalog_path(product))).json()["variants"] == []


async def test_the_catalog_keeps_to_the_librarys_rules(api: Api) -> None:
    taken = await create(api, simple_body())
    path = catalog_path(new_uuid())
    cases = [
        ({"name": "x", "variants": [{"uuid": taken["variants"][0]["uuid"]}]}, "variants[0].uuid"),
        ({"name": "x", "variants": [{"uuid": new_uuid(), "sku": "s" * 65}]}, "variants[0].sku"),
        ({"name": "x", "variants": [{"uuid": new_uuid(), "barcode": "b" * 129}]}, "variants[0].barcode"),
        ({"name": "x", "variants": [{"uuid": new_uuid()} for _ in range(100)]}, "variants"),
    ]
    for body, prop in cases:
        error = assert_error(await api.put(path, json=body), 400, "VALIDATION_ERROR")
        assert error["violations"][0]["propertyName"] == prop
    assert_error(await api.get(path), 404, "ENTITY_NOT_FOUND")


async def test_a_purchase_fills_in_what_the_library_does_not_know_without_product_events(
    api: Api, db: Database
) -> None:
    document = json.loads(FIXTURE_LINES[0])
    product = document["products"][0]["productUuid"]
    small = document["products"][0]["variantUuid"]
    await create(api, {"uuid": product, "name": "Library tee", "variants": [{"uuid": small, "name": "S"}]})
    before = (await api.get(f"{PRODUCTS}/{product}")).json()
    document["purchaseUuid"] = new_uuid()
    assert (await api.post("/organizations/self/purchases", json=document)).status_code == 200
    after = (await api.get(f"{PRODUCTS}/{product}")).json()
    assert after["name"] == "Library tee"  # the library's names are never replaced by a sale's
    assert (after["variants"][0]["uuid"], after["variants"][0]["name"]) == (small, "S")
    assert after["variants"][0]["sku"] == "TEE-S"  # an empty SKU is filled in
    assert [v["name"] for v in after["variants"]][1:] == ["Medium"]  # a variant sold is added
    assert after["etag"] != before["etag"]
    assert [name for name, _ in await events(db, api.org)] == ["ProductCreated", "PurchaseCreated"]


async def test_a_purchase_makes_unknown_products_library_products(api: Api) -> None:
    document = json.loads(FIXTURE_LINES[0])
    product = document["products"][0]["productUuid"]
    document["purchaseUuid"] = new_uuid()
    assert (await api.post("/organizations/self/purchases", json=document)).status_code == 200
    entity = (await api.get(f"{PRODUCTS}/{product}")).json()
    assert entity["name"] == "T-shirt"
    assert [v["name"] for v in entity["variants"]] == ["Small", "Medium"]
    assert entity["variants"][0]["price"] is None  # a sale's price is not the library's


async def test_a_purchase_line_naming_another_products_variant_leaves_it_alone(api: Api) -> None:
    document = json.loads(FIXTURE_LINES[0])
    small = document["products"][0]["variantUuid"]
    owner = await create(api, simple_body(variants=[{"uuid": small, "name": "Mine"}]))
    document["purchaseUuid"] = new_uuid()
    assert (await api.post("/organizations/self/purchases", json=document)).status_code == 200
    assert (await api.get(f"{PRODUCTS}/{owner['uuid']}")).json()["variants"][0]["name"] == "Mine"
    learnt = (await api.get(f"{PRODUCTS}/{document['products'][0]['productUuid']}")).json()
    assert small not in {v["uuid"] for v in learnt["variants"]}


async def test_the_back_office_shows_library_products_by_name(api: Api, db: Database) -> None:
    entity = await create(api, product_body(name="Lantern"))
    variant = entity["variants"][0]
    locs = await api.locations()
    await api.track(entity["uuid"])
    assert (
        await api.move(entity["uuid"], variant["uuid"], locs["SUPPLIER"], locs["STORE"], 3)
    ).status_code == 200
    owner = await add_person(db, api.org, Role.OWNER)
    assert (await sign_in(api.client, owner.email)).status_code == 303
    page = await api.client.get("/ui/stock", params={"q": "TEE-S"})
    assert page.status_code == 200
    assert "Lantern" in page.text and "Small" in page.text and "TEE-S" in page.text
    variant_page = await api.client.get(f"/ui/variants/{entity['uuid']}/{variant['uuid']}")
    assert "Lantern" in variant_page.text and "7312345678901" in variant_page.text


async def test_a_purchase_adds_no_variant_past_the_librarys_99(api: Api) -> None:
    document = json.loads(FIXTURE_LINES[0])
    product = document["products"][0]["productUuid"]
    await create(
        api, {"uuid": product, "name": "Full", "variants": [{"uuid": new_uuid()} for _ in range(99)]}
    )
    document["purchaseUuid"] = new_uuid()
    assert (await api.post("/organizations/self/purchases", json=document)).status_code == 200
    assert len((await api.get(f"{PRODUCTS}/{product}")).json()["variants"]) == 99
