"""BjornTech's WooCommerce Zettle integration [B]: products both ways, taxes, categories, images and
the purchases it turns into orders, request by request as it sends them
(integration-client-calls.md §3).

Its HTTP layer adds a trailing slash to every path and appends query strings after it
(`…/purchases/v2/?startDate=…`); it names the organization by its UUID on reads and deletes and by
`self` on creates and updates; an answer above 299 becomes an error whose text is
`violations[0].developerMessage`, else `developerMessage`; and it follows any `Link` header it sees,
merging the next page into the answer (fatal on an object), so no answer may carry one. Its access
token comes from its own broker; here the test mints it.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks, verify_like_a_foreign_receiver  # noqa: F401
from tests.webhook_receiver import running_receiver

MAX_NAME_CHARS = 64  # it cuts product names to this
PNG_1x1 = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


class ZettleError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text}")
        self.status = status


class Plugin:
    """The plugin's API class and the state it keeps in WordPress options."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.vat_mode = False
        self.etags: dict[str, str] = {}  # product uuid → etag stored from its last PUT
        self.purchase_cursor: str | None = None
        self.imported: list[dict[str, Any]] = []  # products imported from Zettle
        self.removed_variants: list[str] = []
        self.orders: list[dict[str, Any]] = []

    async def call(self, method: str, path: str, *, query: str = "", body: Any = None, **headers: str) -> Any:
        url = "/" + path.strip("/") + "/"
        if query:
            url += "?" + query
        response = await self.api.request(method, url, json=body, headers=headers)
        assert "link" not in response.headers, f"{method} {url} answered a Link header"
        if response.status_code > 299:
            error = response.json()
            violations = error.get("violations") or []
            text = violations[0]["developerMessage"] if violations else error["developerMessage"]
            assert isinstance(text, str) and text
            raise ZettleError(response.status_code, text)
        return (response.json() if response.content else None), response

    # ---- set-up ---------------------------------------------------------------------------------

    async def detect_taxes(self) -> None:
        try:
            await self.call("GET", "v1/taxes/settings")
        except ZettleError as error:
            self.vat_mode = error.status == 403
            return
        self.vat_mode = False

    async def ensure_category(self, name: str) -> str:
        path = f"organizations/{self.api.org}/categories/v2"
        listed, _ = await self.call("GET", path)
        for category in listed["categories"]:
            if category["name"] == name:
                return str(category["uuid"])
        category_uuid = new_uuid()
        await self.call("POST", path, body={"categories": [{"uuid": category_uuid, "name": name}]})
        return category_uuid

    # ---- WooCommerce → Zettle -------------------------------------------------------------------

    async def upload(self, url: str, mime_format: str) -> dict[str, Any]:
        path = f"v2/images/organizations/{self.api.org}/products"
        try:
            answer, _ = await self.call(
                "POST", path, body={"imageFormat": mime_format, "imageData": None, "imageUrl": url}
            )
        except ZettleError:
            answer, _ = await self.call(
                "POST", path, body={"imageFormat": "PNG", "imageData": PNG_1x1, "imageUrl": None}
            )
        assert isinstance(answer["imageLookupKey"], str) and isinstance(answer["imageUrls"][0], str)
        return dict(answer)

    async def find_by_reference(self, reference: str) -> str | None:
        listed, _ = await self.call("GET", f"organizations/{self.api.org}/products")
        for product in listed:
            if product["externalReference"] == reference:
                return str(product["uuid"])
        return None

    async def read(self, product_uuid: str) -> dict[str, Any] | None:
        try:
            product, _ = await self.call("GET", f"organizations/{self.api.org}/products/{product_uuid}")
        except ZettleError as error:
            if error.status == 404:
                return None
            raise
        for key in ("uuid", "name", "etag", "externalReference", "imageLookupKeys", "category"):
            assert key in product, key
        for variant in product["variants"]:
            for key in ("uuid", "barcode", "sku", "price", "costPrice", "presentation"):
                assert key in variant, key
            for money in (variant["price"], variant["costPrice"]):
                assert money is None or (
                    type(money["amount"]) is int and isinstance(money["currencyId"], str)
                )
        return dict(product)

    def body(self, shop_id: int, name: str, category: str, image: dict[str, Any]) -> dict[str, Any]:
        look = {"imageUrl": image["imageUrls"][0], "backgroundColor": "#FFFFFF", "textColor": "#000000"}
        variants = [
            {
                "uuid": new_uuid(),
                "barcode": f"73100000{shop_id:02d}{i}",
                "presentation": look,
                "sku": f"B{shop_id}-{size}",
                "price": {"amount": price, "currencyId": "SEK"},
                "costPrice": {"amount": price // 2, "currencyId": "SEK"},
                "vatPercentage": 25,
                "name": size,
                "options": [{"name": "Size", "value": size}],
            }
            for i, (size, price) in enumerate((("Small", 15900), ("Large", 17900)))
        ]
        product = {
            "name": name[:MAX_NAME_CHARS],
            "categories": [],
            "imageLookupKeys": [image["imageLookupKey"]],
            "variants": variants,
            "uuid": new_uuid(),
            "externalReference": f"ID:{shop_id}",
            "unitName": "st",
            "category": {"uuid": category, "name": "Coffee"},
            "online": {"status": "ACTIVE", "description": f"{name}, freshly roasted"},
            "variantOptionDefinitions": {
                "definitions": [{"name": "Size", "properties": [{"value": "Small"}, {"value": "Large"}]}]
            },
        }
        if self.vat_mode:
            product["vatPercentage"] = 25
        return product

    async def create(self, body: dict[str, Any]) -> None:
        await self.call("POST", "organizations/self/products", body=body)  # answer ignored

    async def update(self, body: dict[str, Any], current: dict[str, Any], new_prices: dict[str, int]) -> None:
        """The same body, each variant's price only when it changed (the rest merged by uuid)."""
        sent = dict(body, uuid=current["uuid"])
        sent["variants"] = []
        for variant, remote in zip(body["variants"], current["variants"], strict=True):
            variant = {k: v for k, v in variant.items() if k not in ("price", "costPrice")}
            variant["uuid"] = remote["uuid"]
            if variant["sku"] in new_prices:
                variant["price"] = {"amount": new_prices[variant["sku"]], "currencyId": "SEK"}
            sent["variants"].append(variant)
        answer, response = await self.call(
            "PUT",
            f"organizations/self/products/v2/{current['uuid']}",
            body=sent,
            **{"If-Match": f'"{current["etag"]}"'},
        )
        assert response.status_code == 200
        self.etags[current["uuid"]] = answer["etag"]

    async def delete(self, product_uuid: str) -> None:
        await self.call("DELETE", f"organizations/{self.api.org}/products/{product_uuid}")

    # ---- Zettle → WooCommerce (webhooks) --------------------------------------------------------

    def import_entity(self, entity: dict[str, Any]) -> None:
        """What the importer reads of a product (every member it dereferences)."""
        simple = len(entity["variants"]) == 1 and "variantOptionDefinitions" not in entity
        for variant in entity["variants"]:
            variant.get("name"), variant.get("sku"), variant.get("barcode")
            for money in (variant.get("price"), variant.get("costPrice")):
                assert money is None or type(money["amount"]) is int
            for option in variant.get("options") or []:
                assert isinstance(option["name"], str) and isinstance(option["value"], str)
        for definition in (entity.get("variantOptionDefinitions") or {}).get("definitions", []):
            assert isinstance(definition["name"], str)
            assert all(isinstance(p["value"], str) for p in definition["properties"])
        category = entity.get("category")
        self.imported.append(
            {
                "uuid": entity["uuid"],
                "name": entity["name"],
                "simple": simple,
                "category": category["name"] if category else None,
                "vat": entity.get("vatPercentage"),
                "taxRates": entity.get("taxRates", []),
            }
        )

    async def on_webhook(self, event: str, payload: dict[str, Any]) -> str:
        if event == "ProductCreated":
            if payload.get("externalReference"):
                return "skipped: its own product"
            self.import_entity(payload)  # the payload is the whole product
            return "imported"
        if event == "ProductUpdated":
            new, old = payload["newEntity"], payload["oldEntity"]
            if new.get("externalReference") and new["etag"] == self.etags.get(new["uuid"]):
                return "skipped: its own change"
            kept = {v["uuid"] for v in new["variants"]}
            self.removed_variants += [v["uuid"] for v in old["variants"] if v["uuid"] not in kept]
            self.import_entity(new)
            return "imported"
        if event == "ProductDeleted":
            return f"deleted {payload['uuid']}"
        if event == "PurchaseCreated":
            await self.order_from(payload["purchaseUuid"])
            return "order"
        return "ignored"

    # ---- purchases → orders ---------------------------------------------------------------------

    async def poll_purchases(self, since: datetime | None = None) -> list[str]:
        """One call, no limit, no paging: by start date the first time, by the stored hash after."""
        if since is not None:
            query = "startDate=" + quote(since.isoformat(timespec="seconds"), safe="")
        else:
            assert self.purchase_cursor is not None
            query = "lastPurchaseHash=" + quote(self.purchase_cursor, safe="")
        page, _ = await self.call("GET", "purchases/v2", query=query)
        uuids = [str(p["purchaseUUID1"]) for p in page["purchases"]]
        if page["purchases"]:
            self.purchase_cursor = page["lastPurchaseHash"]
        return uuids

    async def order_from(self, purchase_uuid: str) -> dict[str, Any]:
        purchase, _ = await self.call("GET", f"purchase/v2/{purchase_uuid}")
        for key, kind in (
            ("purchaseNumber", int),
            ("currency", str),
            ("amount", int),
            ("vatAmount", int),
            ("timestamp", str),
            ("created", str),
            ("refund", bool),
        ):
            assert type(purchase[key]) is kind, (key, purchase[key])
        datetime.strptime(purchase["created"], "%Y-%m-%dT%H:%M:%S.%f%z")
        lines = []
        for line in purchase["products"]:
            assert isinstance(line["type"], str) and isinstance(line["id"], str)
            if line["type"] in ("CUSTOM_AMOUNT", "GIFTCARD") or line.get("libraryProduct") is not True:
                continue
            for key in ("productUuid", "variantUuid", "name", "variantName", "quantity"):
                assert isinstance(line[key], str), (key, line[key])
            assert line["sku"] is None or isinstance(line["sku"], str)
            assert "comment" in line and "discount" in line
            assert type(line["unitPrice"]) is int and type(line["rowTaxableAmount"]) is int
            assert type(line["taxExempt"]) is bool
            assert all(isinstance(rate["percentage"], int | float) for rate in line["taxRates"])
            row_total = line.get("grossValue") or int(line["quantity"]) * line["unitPrice"]
            lines.append((line["sku"], line["quantity"], row_total))
        order = {
            "number": purchase["purchaseNumber"],
            "payment": purchase["payments"][0]["type"],
            "total": purchase["amount"],
            "lines": lines,
        }
        self.orders.append(order)
        return order


async def test_setup_finds_a_vat_organization_and_its_categories(api: Api) -> None:
    plugin = Plugin(api)
    await plugin.detect_taxes()
    assert plugin.vat_mode is True
    with_error = await api.get("/v1/taxes/")
    assert with_error.status_code == 403
    coffee = await plugin.ensure_category("Coffee")
    assert await plugin.ensure_category("Coffee") == coffee  # found by name the second time
    listed, _ = await plugin.call("GET", f"organizations/{api.org}/categories/v2")
    assert listed == {"categories": [{"uuid": coffee, "name": "Coffee"}]}


async def test_an_image_format_it_cannot_name_falls_back_to_base64_png(api: Api) -> None:
    plugin = Plugin(api)
    image = await plugin.upload("https://shop.example/wp-content/uploads/beans.webp", "WEBP")
    assert image["imageLookupKey"].endswith(".png")
    by_url = await plugin.upload("https://shop.example/wp-content/uploads/beans.jpg", "JPEG")
    assert by_url["imageLookupKey"].endswith(".jpeg")


async def test_products_both_ways_with_its_own_changes_recognised_by_etag(
    api: Api,
    other_api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    plugin = Plugin(api)
    await plugin.detect_taxes()
    category = await plugin.ensure_category("Coffee")
    till = Api(api.client, api.org)  # the merchant editing in Zettle: another user, no reference
    async with running_receiver() as receiver:
        sub = await hooks.subscribe(api, receiver, ["ProductCreated", "ProductUpdated", "ProductDeleted"])
        image = await plugin.upload("https://shop.example/beans.jpg", "JPEG")
        body = plugin.body(
            17, "Single origin beans from a small farm high in the mountains of Huila", category, image
        )
        assert await plugin.find_by_reference("ID:17") is None
        await plugin.create(body)
        product_uuid = await plugin.find_by_reference("ID:17")
        assert product_uuid == body["uuid"]
        current = await plugin.read(product_uuid)
        assert current is not None
        assert current["name"] == body["name"] and len(current["name"]) == MAX_NAME_CHARS
        assert [v["presentation"]["textColor"] for v in current["variants"]] == ["#000000"] * 2
        # The shop lowers the small bag's price: only that variant carries a price.
        await plugin.update(body, current, {"B17-Small": 14900})
        after = await plugin.read(product_uuid)
        assert after is not None
        assert [v["price"]["amount"] for v in after["variants"]] == [14900, 17900]
        assert [v["costPrice"]["amount"] for v in after["variants"]] == [7950, 8950]
        assert after["etag"] == plugin.etags[product_uuid]
        # The merchant, in Zettle: drops the large bag; and creates a simple product there.
        merchant = await till.put(
            f"/organizations/self/products/v2/{product_uuid}",
            json={"variants": [{"uuid": after["variants"][0]["uuid"]}]},
        )
        assert merchant.status_code == 200, merchant.text
        scoop = {"uuid": new_uuid(), "name": "Scoop", "variants": [{"uuid": new_uuid()}], "vatPercentage": 25}
        assert (await till.post("/organizations/self/products", json=scoop)).status_code == 201
        await plugin.delete(scoop["uuid"])
        await hooks.dispatcher.drain()
        received = receiver.events()

    outcomes = []
    for delivery in received:
        envelope = verify_like_a_foreign_receiver(
            delivery.body, delivery.headers["x-izettle-signature"], sub["signingKey"]
        )
        outcomes.append(await plugin.on_webhook(envelope["eventName"], json.loads(envelope["payload"])))
    assert outcomes == [
        "skipped: its own product",
        "skipped: its own change",
        "imported",  # the merchant's change: another etag
        "imported",  # the merchant's product: no external reference
        f"deleted {scoop['uuid']}",
    ]
    assert plugin.removed_variants == [after["variants"][1]["uuid"]]
    changed, created = plugin.imported
    assert changed == {
        "uuid": product_uuid,
        "name": body["name"],
        "simple": False,
        "category": "Coffee",
        "vat": "25.0",
        "taxRates": [],
    }
    assert created["uuid"] == scoop["uuid"] and created["simple"] is True and created["category"] is None
    assert other_api.org != api.org  # another organization's UUID in the path is refused
    try:
        await plugin.call("GET", f"organizations/{other_api.org}/products")
    except ZettleError as error:
        assert error.status == 403
    else:
        raise AssertionError("another organization's library was served")


async def test_purchases_become_orders_by_date_then_by_cursor(
    api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    plugin = Plugin(api)
    product, small, large = new_uuid(), new_uuid(), new_uuid()
    library = {
        "uuid": product,
        "name": "Beans",
        "vatPercentage": 25,
        "variants": [
            {
                "uuid": small,
                "name": "Small",
                "sku": "B17-Small",
                "price": {"amount": 14900, "currencyId": "SEK"},
            },
            {
                "uuid": large,
                "name": "Large",
                "sku": "B17-Large",
                "price": {"amount": 17900, "currencyId": "SEK"},
            },
        ],
    }
    assert (await api.post("/organizations/self/products", json=library)).status_code == 201
    await api.track(product)
    # Its first poll starts from when it was connected, in the site's time zone (PHP date('c')).
    connected = datetime.now(timezone(timedelta(hours=1))) - timedelta(minutes=5)

    def sale(number: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "purchaseUuid": new_uuid(),
            "purchaseNumber": number,
            "amount": sum(int(line["quantity"]) * line["unitPrice"] for line in lines),
            "vatAmount": 0,
            "currency": "SEK",
            "payments": [{"uuid": new_uuid(), "amount": 1, "type": "IZETTLE_CARD"}],
            "products": lines,
        }

    first = sale(
        1,
        [
            {"productUuid": product, "variantUuid": small, "name": "Beans", "variantName": "Small",
             "sku": "B17-Small", "quantity": "2", "unitPrice": 14900, "vatPercentage": 25},
            {"name": "Custom amount", "quantity": "1", "unitPrice": 500},
        ],
    )  # fmt: skip
    second = sale(
        2,
        [{"productUuid": product, "variantUuid": large, "name": "Beans", "variantName": "Large",
          "sku": "B17-Large", "quantity": "1", "unitPrice": 17900, "vatPercentage": 25}],
    )  # fmt: skip
    async with running_receiver() as receiver:
        await hooks.subscribe(api, receiver, ["PurchaseCreated"])
        assert (await api.post("/organizations/self/purchases", json=first)).status_code == 200
        assert await plugin.poll_purchases(since=connected) == [first["purchaseUuid"]]
        order = await plugin.order_from(first["purchaseUuid"])
        assert order == {
            "number": 1,
            "payment": "IZETTLE_CARD",
            "total": 30300,
            "lines": [("B17-Small", "2", 29800)],  # the custom amount is no order line
        }
        # Nothing new: an empty page, and the cursor stays.
        cursor = plugin.purchase_cursor
        assert await plugin.poll_purchases() == [] and plugin.purchase_cursor == cursor
        assert (await api.post("/organizations/self/purchases", json=second)).status_code == 200
        assert await plugin.poll_purchases() == [second["purchaseUuid"]]
        assert plugin.purchase_cursor != cursor
        await hooks.dispatcher.drain()
        deliveries = receiver.events()

    # The webhook path: PurchaseCreated names the purchase, the plugin reads it by UUID.
    for delivery in deliveries:
        envelope = delivery.json()
        assert (
            await plugin.on_webhook(str(envelope["eventName"]), json.loads(str(envelope["payload"])))
            == "order"
        )
    assert [o["number"] for o in plugin.orders] == [1, 1, 2]
    assert plugin.orders[2]["lines"] == [("B17-Large", "1", 17900)]
    utc_start = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    page, _ = await plugin.call("GET", "purchases/v2", query="startDate=" + quote(utc_start, safe=""))
    assert [p["purchaseNumber"] for p in page["purchases"]] == [1, 2]
