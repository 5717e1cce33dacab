"""The WooCommerce "PayPal Point of Sale" plugin [I]: its product export, its wipe job and the webhooks
it listens to, request by request as it sends them (integration-client-calls.md §2).

Every product answer (a list item, the 201 of `?returnEntity=true`, the 200 of a PUT) goes through
the plugin's product builder; `build_product` below applies the rules that builder enforces (a
failed rule is an uncaught error in the plugin: the product is neither created nor updated).
Its HTTP client sends `Content-Type: application/json` on every request, and the body `[]` on
DELETE.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.clients.auth_support import subscribe
from tests.clients.test_woocommerce_pusher import EVENTS, Listener
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture
from tests.webhook_receiver import serving

JSON = {"Accept": "application/json", "Content-Type": "application/json"}
PRODUCTS = "/organizations/self/products"
WIPE_BATCH = 50  # ids per bulk delete of the wipe job
# The image URL the plugin writes into `presentation` (its own, whatever the upload answered).
IMAGE_URL = "https://image.izettle.com/productimage/o/{key}"
IMAGE_KEY = re.compile(r"^https://image\.izettle\.com/(?:product|productimage/[Lo])/(.+)$")
MAX_KEY_CHARS = 191  # the plugin indexes lookup keys in a column this wide


class BuildError(Exception):
    """The builder refused the data (in the plugin: an uncaught TypeError or a validator's error)."""


@dataclass
class Built:
    uuid: str
    name: str
    description: str
    etag: str | None
    image_key: str | None
    lookup_keys: list[str]
    variants: list[dict[str, Any]]


def _optional_string(data: dict[str, Any], key: str) -> None:
    if data.get(key) is not None and not isinstance(data[key], str):
        raise BuildError(f"{key} must be a string")


def _php_date(text: Any) -> None:
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except (TypeError, ValueError) as exc:
        raise BuildError(f"not a date: {text!r}") from exc


def build_product(data: Any, shop_currency: str) -> Built:
    """The plugin's product builder and its validators, applied to one product of an answer."""
    if not isinstance(data, dict):
        raise BuildError("a product must be an object")
    for key in ("uuid", "name"):
        if not isinstance(data.get(key), str):
            raise BuildError(f"{key} is required")
    if not isinstance(data.get("imageLookupKeys"), list):  # typed `array`: missing or null fails
        raise BuildError("imageLookupKeys must be an array")
    variants = data.get("variants")
    if not isinstance(variants, list) or not 1 <= len(variants) <= 99:
        raise BuildError("a product has 1 to 99 variants")
    for key in ("etag", "updatedBy", "externalReference", "unitName"):
        _optional_string(data, key)
    for key in ("updated", "created"):
        if key in data:
            _php_date(data[key])
    metadata = data.get("metadata")
    if metadata is not None:  # built with non-nullable constructor arguments
        source = metadata.get("source") if isinstance(metadata, dict) else None
        if not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("inPos"), bool)
            and isinstance(source, dict)
            and isinstance(source.get("name"), str)
            and isinstance(source.get("external"), bool)
        ):
            raise BuildError("metadata is incomplete")
    image_key = None
    presentation = data.get("presentation")
    if isinstance(presentation, dict) and isinstance(presentation.get("imageUrl"), str):
        found = IMAGE_KEY.match(presentation["imageUrl"])
        image_key = found.group(1) if found else presentation["imageUrl"]
    built_variants = []
    for variant in variants:
        if not isinstance(variant, dict) or not isinstance(variant.get("uuid"), str):
            raise BuildError("a variant needs a uuid")
        # One VAT rate per product: a variant whose rate differs (null counts as a value) fails.
        if variant.get("vatPercentage") != data.get("vatPercentage"):
            raise BuildError("variant VAT differs from the product's")
        price = variant.get("price") or {}
        if "amount" in price and (type(price["amount"]) is not int):
            raise BuildError("price.amount must be an integer")
        options = variant.get("options") or []
        if not all(isinstance(o.get("name"), str) and isinstance(o.get("value"), str) for o in options):
            raise BuildError("options are {name, value} strings")
        for key in ("barcode", "sku", "name", "description"):
            _optional_string(variant, key)
        cost = variant.get("costPrice")
        if cost is not None and type(cost.get("amount")) is not int:
            raise BuildError("costPrice.amount must be an integer")
        built_variants.append(
            {
                "uuid": variant["uuid"],
                "sku": variant.get("sku") or "",
                "amount": price.get("amount"),
                "currency": price.get("currencyId") or shop_currency,
                "defaultQuantity": int(variant.get("defaultQuantity") or 0),
            }
        )
    return Built(
        data["uuid"],
        data["name"],
        data.get("description") or "",
        data.get("etag"),
        image_key,
        list(data["imageLookupKeys"]),
        built_variants,
    )


class Plugin:
    """The plugin's export of WooCommerce products: id → linked Zettle product uuid."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.currency = "SEK"
        self.links: dict[int, str] = {}

    async def onboard(self) -> int:
        """Key check, organization, remote product count (the onboarding screen shows it)."""
        assert (await self.api.get("/users/me", headers=JSON)).is_success
        organization = (await self.api.get("/api/resources/organizations/self", headers=JSON)).json()
        self.currency = organization["currency"]
        assert organization["taxationType"] == "VAT"  # so it never asks /v1/taxes
        return len(await self.remote_products())

    async def remote_products(self) -> list[Built]:
        response = await self.api.get(f"{PRODUCTS}/v2", headers=JSON)
        assert response.status_code == 200, response.text
        return [build_product(item, self.currency) for item in response.json()]

    async def upload(self, url: str) -> str:
        """The image first; on an error once more with a placeholder."""
        path = "/v2/images/organizations/self/products"
        body = {"imageFormat": "JPEG", "imageData": None, "imageUrl": url}
        response = await self.api.post(path, json=body, headers=JSON)
        if response.status_code >= 400:
            placeholder = {
                "imageFormat": "PNG",
                "imageData": None,
                "imageUrl": "https://placehold.co/600x400.png",
            }
            response = await self.api.post(path, json=placeholder, headers=JSON)
        assert response.status_code == 200, response.text
        key = response.json()["imageLookupKey"]
        assert isinstance(key, str) and 0 < len(key) <= MAX_KEY_CHARS
        return str(key)

    def body(self, shop_id: int, name: str, key: str, prices: tuple[int, int]) -> dict[str, Any]:
        """A variable WooCommerce product (two sizes) as its serializer writes it."""
        definitions = [{"name": "Size", "properties": [{"value": s, "imageUrl": None} for s in ("S", "M")]}]
        return {
            "uuid": self.links.get(shop_id) or new_uuid(),
            "name": name,
            "description": f"<p>{name}</p>",
            "imageLookupKeys": [key],
            "presentation": {
                "imageUrl": IMAGE_URL.format(key=key),
                "backgroundColor": None,
                "textColor": None,
            },
            "variants": [
                {
                    "uuid": new_uuid(),
                    "name": f"{name} {size}",
                    "description": "",
                    "sku": f"WOO-{shop_id}-{size}",
                    "barcode": None,
                    "defaultQuantity": 1,
                    "unitName": "pcs",
                    "vatPercentage": 25,
                    "price": {"amount": price, "currencyId": self.currency},
                    "costPrice": {"amount": price // 2, "currencyId": self.currency},
                    "options": [{"name": "Size", "value": size}],
                }
                for size, price in zip(("S", "M"), prices, strict=True)
            ],
            "variantOptionDefinitions": {"definitions": definitions},
            "vatPercentage": 25,
            "taxExempt": False,
            "createWithDefaultTax": False,
            "externalReference": f"woo-{shop_id}",
            "unitName": "pcs",
            "metadata": {"inPos": True, "source": {"name": "WooCommerce", "external": True}},
        }

    async def export(self, shop_id: int, name: str, image: str, prices: tuple[int, int]) -> Built:
        key = await self.upload(image)
        linked = self.links.get(shop_id)
        if linked is not None:
            found = await self.api.get(f"{PRODUCTS}/{linked}", headers=JSON)
            if found.is_success:
                current = build_product(found.json(), self.currency)
                body = self.body(shop_id, name, key, prices)
                # The full product goes back, read-only members included; variants keep their uuids.
                for sent, kept in zip(body["variants"], current.variants, strict=True):
                    sent["uuid"] = kept["uuid"]
                body.update(
                    etag=current.etag,
                    updatedAt=found.json()["updated"],
                    createdAt=found.json()["created"],
                )
                headers = {**JSON, "If-Match": f'"{current.etag}"'}
                response = await self.api.put(f"{PRODUCTS}/v2/{linked}", json=body, headers=headers)
                if response.status_code == 404 and response.json()["errorType"] == "ENTITY_NOT_FOUND":
                    del self.links[shop_id]  # unlinked: created again below
                else:
                    assert response.status_code == 200, response.text
                    return build_product(response.json(), self.currency)
            else:
                del self.links[shop_id]
        body = self.body(shop_id, name, key, prices)
        # Existence check first: any error means "create".
        assert (await self.api.get(f"{PRODUCTS}/{body['uuid']}", headers=JSON)).status_code == 404
        response = await self.api.post(PRODUCTS, params={"returnEntity": "true"}, json=body, headers=JSON)
        assert response.status_code == 201, response.text
        built = build_product(response.json(), self.currency)
        self.links[shop_id] = built.uuid
        return built

    async def delete(self, shop_id: int) -> int:
        linked = self.links.pop(shop_id)
        return (await self.api.delete(f"{PRODUCTS}/{linked}", content=b"[]", headers=JSON)).status_code

    async def wipe(self) -> list[int]:
        uuids = [p.uuid for p in await self.remote_products()]
        statuses = []
        for start in range(0, len(uuids), WIPE_BATCH):
            query = "&".join(f"uuid={u}" for u in uuids[start : start + WIPE_BATCH])
            response = await self.api.delete(f"{PRODUCTS}?{query}", content=b"[]", headers=JSON)
            statuses.append(response.status_code)
        return statuses


async def test_onboarding_builds_every_product_other_clients_wrote(api: Api) -> None:
    """Products written by other clients, with their least and their most, all build."""
    least = {"uuid": new_uuid(), "name": "Bare", "variants": [{"uuid": new_uuid()}], "vatPercentage": "0"}
    partial_metadata = {
        "uuid": new_uuid(),
        "name": "Partly described",
        "variants": [{"uuid": new_uuid(), "price": {"amount": 100, "currencyId": "SEK"}}],
        "metadata": {"inPos": True},  # incomplete: answered as null
    }
    no_variants = {"uuid": new_uuid(), "name": "No variants given"}
    for body in (least, partial_metadata, no_variants):
        response = await api.post(PRODUCTS, json=body)
        assert response.status_code == 201, response.text
    plugin = Plugin(api)
    assert await plugin.onboard() == 3
    built = {p.uuid: p for p in await plugin.remote_products()}
    assert built[least["uuid"]].description == ""
    assert built[partial_metadata["uuid"]].variants[0]["amount"] == 100
    assert len(built[no_variants["uuid"]].variants) == 1


async def test_export_creates_then_updates_with_the_etag_it_read(api: Api) -> None:
    plugin = Plugin(api)
    await plugin.onboard()
    created = await plugin.export(7, "Hoodie", "https://shop.example/wp-content/hoodie.jpg", (49900, 52900))
    # The key it parses from its own image URL is the key it uploaded.
    assert created.etag and created.lookup_keys == [created.image_key]
    assert [v["sku"] for v in created.variants] == ["WOO-7-S", "WOO-7-M"]
    assert [v["amount"] for v in created.variants] == [49900, 52900]
    assert all(v["defaultQuantity"] == 0 for v in created.variants)  # read-only: not echoed

    updated = await plugin.export(7, "Hoodie", "https://shop.example/wp-content/hoodie.jpg", (44900, 52900))
    assert updated.uuid == created.uuid
    assert updated.etag != created.etag
    assert [v["uuid"] for v in updated.variants] == [v["uuid"] for v in created.variants]
    assert [v["amount"] for v in updated.variants] == [44900, 52900]
    # The etag it holds is the one the PUT answered: an update with the old one is refused.
    stale = await api.put(
        f"{PRODUCTS}/v2/{created.uuid}",
        json={"name": "Hoodie 2"},
        headers={**JSON, "If-Match": f'"{created.etag}"'},
    )
    assert stale.status_code == 412
    fetched = await api.get(f"{PRODUCTS}/{created.uuid}", headers=JSON)
    assert fetched.headers["etag"] == f'"{updated.etag}"'


async def test_a_bad_image_is_replaced_by_the_placeholder(api: Api) -> None:
    plugin = Plugin(api)
    key = await plugin.upload("file:///var/www/uploads/hoodie.jpg")
    assert key.endswith(".png")


async def test_a_product_deleted_in_zettle_is_unlinked_and_created_again(api: Api) -> None:
    plugin = Plugin(api)
    first = await plugin.export(8, "Cap", "https://shop.example/cap.jpg", (19900, 19900))
    assert (await api.delete(f"{PRODUCTS}/{first.uuid}")).status_code == 204
    again = await plugin.export(8, "Cap", "https://shop.example/cap.jpg", (21900, 21900))
    assert again.uuid != first.uuid and plugin.links[8] == again.uuid
    assert [p.uuid for p in await plugin.remote_products()] == [again.uuid]


async def test_deletes_reach_its_listener_and_the_wipe_job_empties_the_library(
    api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    plugin = Plugin(api)
    listener = Listener()
    async with serving(listener.handle) as port:
        sub = await subscribe(api, hooks, f"http://127.0.0.1:{port}/wp-json/zettle/v1/webhook/listen", EVENTS)
        listener.signing_key = sub["signingKey"]
        hoodie = await plugin.export(1, "Hoodie", "https://shop.example/hoodie.jpg", (49900, 52900))
        # Stock: tracking, then the shop's quantity for the first size.
        await api.track(hoodie.uuid)
        locations = await api.locations()
        variant = hoodie.variants[0]["uuid"]
        moved = await api.move(hoodie.uuid, variant, locations["SUPPLIER"], locations["STORE"], 4)
        assert moved.status_code == 200, moved.text
        assert await plugin.delete(1) == 204
        for shop_id in range(2, 2 + 60):
            await plugin.export(shop_id, f"Sticker {shop_id}", "https://shop.example/s.jpg", (500, 600))
        assert await plugin.wipe() == [204, 204]
        assert await plugin.remote_products() == []
        await hooks.dispatcher.drain()

    assert set(listener.answers) == {200}
    events = [e for e in listener.verified if e["eventName"] != "TestMessage"]
    names = [e["eventName"] for e in events]
    assert names[:3] == ["InventoryTrackingStarted", "InventoryBalanceChanged", "ProductDeleted"]
    assert names[3:] == ["ProductDeleted"] * 60  # one per product of the wipe
    deleted = [json.loads(e["payload"])["uuid"] for e in events if e["eventName"] == "ProductDeleted"]
    assert deleted[0] == hoodie.uuid
    assert len(set(deleted)) == 61
