"""The PyPI `izettle` client (0.3.5) [Z] on the products, purchase and image hosts: every method it
has there, in a script's order, with its headers (`IF-Match: *` on every request, creates included;
`Content-Type: application/json` even on GET and DELETE) (integration-client-calls.md §4).

The client itself reads no field: what a script does with its answers is checked with pydantic
models of what the spec promises (required keys present, with their types)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from tests.clients.izettle_pypi import Client, RequestError
from tests.conftest import Api, new_uuid


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class Price(Model):
    amount: int
    currencyId: str


class Variant(Model):
    uuid: str
    name: str | None
    price: Price | None
    costPrice: Price | None
    vatPercentage: str | None


class Product(Model):
    uuid: str
    name: str
    categories: list[str]
    variants: list[Variant]
    vatPercentage: str | None
    etag: str
    updated: str
    created: str


class Category(Model):
    uuid: str
    name: str
    etag: str
    updated: str
    created: str


class Line(Model):
    quantity: str
    productUuid: str | None
    variantUuid: str | None
    unitPrice: int
    name: str
    variantName: str


class Purchase(Model):
    purchaseUUID: str
    purchaseUUID1: str
    amount: int
    timestamp: str
    purchaseNumber: int
    refund: bool
    products: list[Line]


class Page(Model):
    purchases: list[Purchase]
    firstPurchaseHash: str | None
    lastPurchaseHash: str | None
    linkUrls: list[str]


def client_of(api: Api) -> Client:
    return Client(api.client, iter([api.token()]))


def every_request_had_its_default_headers(client: Client) -> None:
    assert client.sent
    for request in client.sent:
        assert request.headers["if-match"] == "*", request.url
        assert request.headers["content-type"] == "application/json", request.url


async def test_categories_products_and_variants_through_every_method(api: Api) -> None:
    client = client_of(api)
    assert await client.create_category({"name": "Tea"}) == {}  # 201 without a body
    [category] = [Category.model_validate(c) for c in await client.get_all_categroies()]
    assert Category.model_validate(await client.get_category(category.uuid)) == category

    # Neither uuid, variants nor VAT given: the client fills them in (vatPercentage "0").
    assert await client.create_product({"name": "Green tea", "categories": ["Tea"]}) == {}
    [listed] = [Product.model_validate(p) for p in await client.get_all_products()]
    assert listed.vatPercentage == "0.0" and listed.categories == ["Tea"]
    assert [v.name for v in listed.variants] == [None]
    first_variant = listed.variants[0].uuid

    updated = Product.model_validate(
        await client.update_product(listed.uuid, {"name": "Sencha", "description": "Steamed"})
    )
    assert updated.name == "Sencha" and updated.etag != listed.etag

    added = await client.create_product_variant(
        listed.uuid, {"name": "100 g", "price": {"amount": 4500, "currencyId": "SEK"}}
    )
    assert added == {}
    product = Product.model_validate(await client.get_product(listed.uuid))
    second_variant = product.variants[1].uuid
    assert [v.name for v in product.variants] == [None, "100 g"]
    price = {"price": {"amount": 4900, "currencyId": "SEK"}}
    assert await client.update_product_variant(listed.uuid, second_variant, price) == {}  # 204
    assert await client.delete_product_variant(listed.uuid, first_variant) == {}
    product = Product.model_validate(await client.get_product(listed.uuid))
    assert [(v.uuid, v.price) for v in product.variants] == [
        (second_variant, Price(amount=4900, currencyId="SEK"))
    ]
    assert all(v.vatPercentage == product.vatPercentage for v in product.variants)

    # A second product, then both deleted with one list call: repeated `uuid` keys.
    assert await client.create_product({"name": "Black tea", "vatPercentage": "25"}) == {}
    both = [p["uuid"] for p in await client.get_all_products()]
    assert await client.delete_product_list({"uuid": both}) == {}
    assert client.sent[-1].url.query.decode() == "&".join(f"uuid={u}" for u in both)
    assert await client.get_all_products() == []
    with pytest.raises(RequestError) as missing:
        await client.delete_product(listed.uuid)
    assert missing.value.response.status_code == 404
    assert missing.value.response.json()["errorType"] == "ENTITY_NOT_FOUND"
    every_request_had_its_default_headers(client)


async def test_a_product_with_the_clients_own_uuid_and_variants_is_kept_as_given(api: Api) -> None:
    client = client_of(api)
    product, variant = str(uuid.uuid1()), str(uuid.uuid1())
    body = {
        "uuid": product,
        "name": "Rooibos",
        "vatPercentage": "12",
        "variants": [{"uuid": variant, "name": "Loose", "price": {"amount": 3900, "currencyId": "SEK"}}],
    }
    assert await client.create_product(body) == {}
    with pytest.raises(RequestError) as duplicate:
        await client.create_product(body)
    assert duplicate.value.response.json()["errorType"] == "ITEM_ALREADY_EXIST"
    fetched = Product.model_validate(await client.get_product(product))
    assert (fetched.uuid, fetched.variants[0].uuid, fetched.vatPercentage) == (product, variant, "12.0")
    every_request_had_its_default_headers(client)


async def test_purchases_and_images(api: Api) -> None:
    client = client_of(api)
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    documents: list[dict[str, Any]] = [
        {
            "purchaseUuid": new_uuid(),
            "timestamp": 1764163780798 + n * 60_000,
            "amount": 3900 * (n + 1),
            "products": [
                {"productUuid": product, "variantUuid": variant, "name": "Rooibos", "quantity": str(n + 1),
                 "unitPrice": 3900}
            ],
        }
        for n in range(3)
    ]  # fmt: skip
    for document in documents:
        assert (await api.post("/organizations/self/purchases", json=document)).status_code == 200
    start = {"startDate": "2025-11-26", "endDate": "2025-11-27"}
    newest = Page.model_validate(
        await client.get_multiple_purchases({**start, "descending": True, "limit": 2})
    )
    assert client.sent[-1].url.params["descending"] == "True"
    assert [p.purchaseUUID1 for p in newest.purchases] == [
        documents[2]["purchaseUuid"],
        documents[1]["purchaseUuid"],
    ]
    assert len(newest.linkUrls) == 1
    rest = Page.model_validate(
        await client.get_multiple_purchases(
            {**start, "descending": True, "limit": 2, "lastPurchaseHash": newest.lastPurchaseHash}
        )
    )
    assert [p.purchaseUUID1 for p in rest.purchases] == [documents[0]["purchaseUuid"]]
    assert rest.linkUrls == []
    one = Purchase.model_validate(await client.get_purchase(documents[0]["purchaseUuid"]))
    assert one == rest.purchases[0]
    assert (one.amount, one.products[0].quantity, one.products[0].variantName) == (3900, "1", "")
    datetime.strptime(one.timestamp, "%Y-%m-%dT%H:%M:%S.%f%z")

    image = await client.create_image({"imageFormat": "JPEG", "imageUrl": "https://shop.example/tea.jpg"})
    assert isinstance(image["imageLookupKey"], str) and len(image["imageUrls"]) == 2
    every_request_had_its_default_headers(client)
