"""Shopware's PayPal plugin (its Zettle part) [S]: the product count of its setup wizard and a complete
sync run, request by request as it sends them (integration-client-calls.md §1).

A sync run is product pass → image pass → product pass → inventory pass. The product passes create
what is new (`POST …/products/`, answer ignored) and update what changed (`PUT …/products/v2/{uuid}`
with `If-Match: *` and the full body); the second pass updates every product whose image URL became
known in the image pass. Answers it keeps are hydrated into structs with typed setters
(`php_types.hydrate`): `{}` for an absent object, a float for money or a number where a string is
typed is a TypeError. Errors it branches on: `ITEM_ALREADY_EXIST` (overwrite on the next run) and
`ENTITY_NOT_FOUND` (forget the product; it is re-created on the next run).
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import httpx

from tests.clients.auth_support import subscribe
from tests.clients.php_types import Many, Setters, assert_no_empty_objects, hydrate
from tests.clients.test_shopware_api_key import BALANCE, verify_like_the_plugin
from tests.conftest import Api
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture
from tests.webhook_receiver import running_receiver

PARTNER = "SHOPWARE"  # metadata.source.name: the plugin's partner id
PRODUCTS = "/organizations/self/products/"
HEADERS = {"X-iZettle-Application-Id": str(uuid.uuid4()), "Accept": "application/json"}
DELETE_BATCH = 100  # ids per bulk delete

PRICE: Setters = {"Amount": int, "CurrencyId": str}
PRESENTATION: Setters = {"ImageUrl": str, "BackgroundColor": str, "TextColor": str}
VARIANT: Setters = {
    "Uuid": str,
    "Name": str,
    "Description": str,
    "Sku": str,
    "Barcode": str,
    "Price": PRICE,
    "CostPrice": PRICE,
    "Options": Many({"Name": str, "Value": str}),
    "Presentation": PRESENTATION,
}
PRODUCT: Setters = {
    "Uuid": str,
    "Name": str,
    "Description": str,
    "Category": {"Uuid": str, "Name": str},
    "Variants": Many(VARIANT),
    "VariantOptionDefinitions": {
        "Definitions": Many({"Name": str, "Properties": Many({"Value": str, "ImageUrl": str})})
    },
    # Zettle answers a decimal string ("19.0"); the struct casts what it gets.
    "VatPercentage": (str, int, float),
    "Presentation": PRESENTATION,
    "Metadata": {"InPos": bool, "Source": {"External": bool, "Name": str}},
}
ERROR: Setters = {"DeveloperMessage": str, "ErrorType": str, "Violations": list}


def zettle_uuid(shopware_id: str) -> str:
    """The plugin's UUID for a Shopware id (32 hex digits): time-based version nibble, dashes."""
    return str(uuid.UUID(hex=shopware_id[:12] + "1" + shopware_id[13:]))


class Plugin:
    """The plugin's side of a sync: its products (Shopware id → what it sends) and its sync records."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.products: dict[str, dict[str, Any]] = {}
        self.image_urls: dict[str, str] = {}  # media URL → imageUrls[0] of its upload
        self.checksums: dict[str, str] = {}  # Shopware id → checksum of the body last sent
        self.overwrite: set[str] = set()  # answered ITEM_ALREADY_EXIST: update on the next pass

    def add(self, name: str, sku: str, price: int | None, media: str | None = None) -> str:
        shopware_id = uuid.uuid4().hex
        self.products[shopware_id] = {"name": name, "sku": sku, "price": price, "media": media}
        return shopware_id

    def body(self, shopware_id: str) -> dict[str, Any]:
        """The product as its serializer writes it: nulls for unset members, `price` left out when
        there is none, `vatPercentage` a number."""
        product = self.products[shopware_id]
        variant: dict[str, Any] = {
            "uuid": zettle_uuid(shopware_id[::-1]),
            "name": product["name"],
            "description": f"{product['name']} from the shop",
            "sku": product["sku"],
            "barcode": None,
            "costPrice": None,
            "options": None,
            "presentation": None,
        }
        if product["price"] is not None:
            variant["price"] = {"amount": product["price"], "currencyId": "EUR"}
        image = self.image_urls.get(product["media"] or "")
        return {
            "uuid": zettle_uuid(shopware_id),
            "name": product["name"],
            "description": f"{product['name']} from the shop",
            "category": {"uuid": zettle_uuid("c" * 32), "name": "Shop"},
            "variants": [variant],
            "variantOptionDefinitions": None,
            "vatPercentage": 19,
            "presentation": None if image is None else {"imageUrl": image},
            "metadata": {"inPos": True, "source": {"external": True, "name": PARTNER}},
        }

    async def product_pass(self) -> list[tuple[str, int]]:
        """NewUpdater then OutdatedUpdater: (what, status) of every request made."""
        made = []
        for shopware_id in self.products:
            body = self.body(shopware_id)
            checksum = json.dumps(body, sort_keys=True)
            if shopware_id not in self.checksums and shopware_id not in self.overwrite:
                response = await self.api.post(PRODUCTS, json=body, headers=HEADERS)
                made.append(("create", response.status_code))
                if response.is_success:
                    self.checksums[shopware_id] = checksum
                elif hydrate(response.json(), ERROR)["ErrorType"] == "ITEM_ALREADY_EXIST":
                    self.overwrite.add(shopware_id)
            elif self.checksums.get(shopware_id) != checksum:
                path = f"/organizations/self/products/v2/{body['uuid']}"
                response = await self.api.put(path, json=body, headers={**HEADERS, "If-Match": "*"})
                made.append(("update", response.status_code))
                if response.is_success:
                    self.checksums[shopware_id] = checksum
                    self.overwrite.discard(shopware_id)
                elif hydrate(response.json(), ERROR)["ErrorType"] == "ENTITY_NOT_FOUND":
                    self.checksums.pop(shopware_id, None)  # forgotten: created again next run
                    self.overwrite.discard(shopware_id)
        return made

    async def image_pass(self) -> dict[str, Any]:
        media = sorted({p["media"] for p in self.products.values() if p["media"]})
        uploads = [{"imageFormat": "JPEG", "imageUrl": url, "imageLookupKey": None} for url in media]
        response = await self.api.post(
            "/v2/images/organizations/self/products/bulk", json={"imageUploads": uploads}, headers=HEADERS
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        struct = hydrate(
            answer,
            {
                "Uploaded": Many({"ImageLookupKey": str, "ImageUrls": list, "Source": str}),
                "Invalid": list,
            },
        )
        assert "Invalid" in struct and isinstance(answer["invalid"], list)  # iterated unconditionally
        for upload in struct["Uploaded"]:
            # Matched back to the shop's media by the path of `source`.
            matching = [url for url in media if httpx.URL(url).path == httpx.URL(upload["Source"]).path]
            assert matching, upload
            assert all(isinstance(u, str) for u in upload["ImageUrls"])
            self.image_urls[matching[0]] = upload["ImageUrls"][0]
        return answer

    async def remote_products(self) -> list[dict[str, Any]]:
        """Replace mode: every product of the library, hydrated as its Product struct."""
        response = await self.api.get(PRODUCTS, headers=HEADERS)
        assert response.status_code == 200, response.text
        assert "link" not in response.headers
        listed = response.json()
        assert isinstance(listed, list)
        assert_no_empty_objects(listed)
        return [hydrate(item, PRODUCT) for item in listed]

    async def cleanup(self) -> list[int]:
        """Delete every remote product that maps to no Shopware product, 100 ids a request."""
        known = {zettle_uuid(i).replace("-", "") for i in self.products}
        stale = [p["Uuid"] for p in await self.remote_products() if p["Uuid"].replace("-", "") not in known]
        statuses = []
        for start in range(0, len(stale), DELETE_BATCH):
            batch = stale[start : start + DELETE_BATCH]
            query = "&".join(f"uuid={u}" for u in batch)
            headers = {**HEADERS, "Content-Type": "application/json"}
            response = await self.api.delete(f"{PRODUCTS}?{query}", headers=headers)
            statuses.append(response.status_code)
        return statuses


async def test_the_wizard_counts_the_library_as_an_object(api: Api) -> None:
    response = await api.get("/organizations/self/products/v2/count/", headers=HEADERS)
    assert response.status_code == 200, response.text
    assert hydrate(response.json(), {"ProductCount": int}) == {"ProductCount": 0}
    plugin = Plugin(api)
    plugin.add("Shirt", "SW1", 1999)
    await plugin.product_pass()
    count = (await api.get("/organizations/self/products/v2/count/", headers=HEADERS)).json()
    assert count == {"productCount": 1}


async def test_a_sync_run_creates_uploads_images_updates_then_moves_stock(
    api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    plugin = Plugin(api)
    shirt = plugin.add("Shirt", "SW1", 1999, media="https://shop.example/media/ab/shirt.jpg")
    plugin.add("Gift card", "SW2", None)  # no price: the serializer leaves `price` out
    async with running_receiver() as receiver:
        sub = await subscribe(api, hooks, receiver.url, ["InventoryBalanceChanged"])
        # Pass 1 creates both products (no image URL known yet).
        assert await plugin.product_pass() == [("create", 201), ("create", 201)]
        # The image pass, then pass 2 updates the product whose image URL is now known.
        answer = await plugin.image_pass()
        assert answer["invalid"] == [] and len(answer["uploaded"]) == 1
        assert await plugin.product_pass() == [("update", 200)]
        # A run without changes sends nothing.
        assert await plugin.product_pass() == []
        # Inventory pass (the inventory routes), for the shirt's variant.
        shirt_body = plugin.body(shirt)
        await api.track(shirt_body["uuid"])
        locations = await api.locations()
        variant = shirt_body["variants"][0]["uuid"]
        moved = await api.move(shirt_body["uuid"], variant, locations["SUPPLIER"], locations["STORE"], 7)
        assert moved.status_code == 200, moved.text
        await hooks.dispatcher.drain()
        deliveries = receiver.events()

    # Only the event it subscribes to arrives (no product events), and it hydrates.
    assert len(deliveries) == 1
    webhook = verify_like_the_plugin(
        deliveries[0].body, deliveries[0].headers["x-izettle-signature"], sub["signingKey"]
    )
    assert webhook["EventName"] == "InventoryBalanceChanged"
    for record in json.loads(webhook["Payload"])["balanceAfter"]:
        hydrate(record, BALANCE)

    remote = {p["Uuid"]: p for p in await plugin.remote_products()}
    product = remote[shirt_body["uuid"]]
    assert product["Presentation"] == {
        "ImageUrl": plugin.image_urls["https://shop.example/media/ab/shirt.jpg"]
    }
    assert product["Variants"][0]["Price"] == {"Amount": 1999, "CurrencyId": "EUR"}
    assert Decimal(product["VatPercentage"]) == 19
    assert product["Metadata"] == {"InPos": True, "Source": {"External": True, "Name": PARTNER}}
    gift = remote[zettle_uuid(next(i for i in plugin.products if i != shirt))]
    assert "Price" not in gift["Variants"][0] and "CostPrice" not in gift["Variants"][0]


async def test_a_product_already_there_is_overwritten_on_the_next_run(api: Api) -> None:
    """A product created by an earlier installation answers ITEM_ALREADY_EXIST; the next product
    pass updates it with `If-Match: *`."""
    first = Plugin(api)
    shared = first.add("Mug", "SW3", 900)
    await first.product_pass()
    again = Plugin(api)  # same shop, sync records lost
    again.products[shared] = {**first.products[shared], "price": 1100}
    assert await again.product_pass() == [("create", 400)]
    assert again.overwrite == {shared}
    assert await again.product_pass() == [("update", 200)]
    remote = {p["Uuid"]: p for p in await again.remote_products()}
    assert remote[zettle_uuid(shared)]["Variants"][0]["Price"]["Amount"] == 1100


async def test_a_product_deleted_in_zettle_is_forgotten_then_created_again(api: Api) -> None:
    plugin = Plugin(api)
    mug = plugin.add("Mug", "SW3", 900)
    await plugin.product_pass()
    # Someone deletes it on the other side; the shop changes its price.
    deleted = await api.delete(f"/organizations/self/products/{zettle_uuid(mug)}")
    assert deleted.status_code == 204
    plugin.products[mug]["price"] = 950
    assert await plugin.product_pass() == [("update", 404)]
    assert mug not in plugin.checksums
    assert await plugin.product_pass() == [("create", 201)]
    assert [p["Uuid"] for p in await plugin.remote_products()] == [zettle_uuid(mug)]


async def test_replace_mode_deletes_what_the_shop_does_not_know_in_batches_of_100(api: Api) -> None:
    plugin = Plugin(api)
    kept = plugin.add("Shirt", "SW1", 1999)
    await plugin.product_pass()
    # 120 products in the library the shop knows nothing of (made by another client).
    strangers = [str(uuid.uuid1()) for _ in range(120)]
    for stranger in strangers:
        body = {"uuid": stranger, "name": "Stranger", "variants": [{"uuid": str(uuid.uuid1())}]}
        assert (await api.post("/organizations/self/products", json=body)).status_code == 201
    assert await plugin.cleanup() == [204, 204]
    assert [p["Uuid"] for p in await plugin.remote_products()] == [zettle_uuid(kept)]
    # Unknown ids in a batch (deleted meanwhile) change nothing for the others.
    query = "&".join(f"uuid={u}" for u in strangers[:100])
    again = await api.delete(f"{PRODUCTS}?{query}", headers={**HEADERS, "Content-Type": "application/json"})
    assert again.status_code == 204
    count = (await api.get("/organizations/self/products/v2/count/", headers=HEADERS)).json()
    assert count == {"productCount": 1}


async def test_every_error_it_can_meet_hydrates_with_a_developer_message(api: Api) -> None:
    bad = {"uuid": str(uuid.uuid1()), "name": "", "variants": [{"uuid": str(uuid.uuid1())}]}
    answers = [
        await api.post(PRODUCTS, json=bad, headers=HEADERS),
        await api.put(f"/organizations/self/products/v2/{uuid.uuid1()}", json=bad, headers={"If-Match": "*"}),
        await api.client.get(PRODUCTS, headers={"Authorization": "Bearer expired-or-wrong", **HEADERS}),
    ]
    assert [a.status_code for a in answers] == [400, 404, 401]
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/json")
        struct = hydrate(answer.json(), ERROR)
        assert struct["DeveloperMessage"] and struct["ErrorType"]
        for violation in answer.json().get("violations") or []:
            assert all(isinstance(v, str) for v in violation.values()), violation
