"""BjornTech's WooCommerce Zettle integration [B] as it talks HTTP: its API class and the state it
keeps, written from integration-client-calls.md §3 (products both ways, taxes, categories, images,
purchases turned into orders).

Its HTTP layer adds a trailing slash to every path and appends query strings after it
(`…/purchases/v2/?startDate=…`); it names the organization by its UUID on reads and deletes and by
`self` on creates and updates; an answer above 299 becomes an error whose text is
`violations[0].developerMessage`, else `developerMessage`; and it follows any `Link` header it sees,
merging the next page into the answer (fatal on an object), so no answer may carry one. Its access
token comes from its own broker; here the test mints it.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tests.conftest import Api, new_uuid

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
