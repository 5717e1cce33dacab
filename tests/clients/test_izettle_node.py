"""The Node client `izettle-node` [N]: its products, categories and purchases calls as it builds them
(integration-client-calls.md §5).

It is a pass-through over an HTTP library in JSON mode (`Accept` and, with a body,
`Content-Type: application/json`), sends no `If-Match` anywhere, puts its `organizationUuid` option
(default `self`) into every `/organizations/{org}` path, and writes query objects with indexed keys:
`{uuid: [a, b]}` becomes `uuid%5B0%5D=a&uuid%5B1%5D=b`. It reads no field; a script using it does,
as below."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tests.conftest import Api, new_uuid


class NodeError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code}: {response.text[:200]}")
        self.status = response.status_code


def indexed_query(data: dict[str, Any]) -> str:
    """The query-string writer of its HTTP library: arrays with indices, brackets encoded."""
    pairs = []
    for key, value in data.items():
        if isinstance(value, list):
            pairs += [(f"{key}[{i}]", item) for i, item in enumerate(value)]
        else:
            pairs.append((key, "true" if value is True else "false" if value is False else value))
    return "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in pairs)


class NodeClient:
    def __init__(self, api: Api, organization_uuid: str = "self") -> None:
        self.api = api
        self.org = organization_uuid
        self.sent: list[httpx.Request] = []

    async def call(self, method: str, path: str, qs: dict[str, Any] | None = None, body: Any = None) -> Any:
        url = path + ("?" + indexed_query(qs) if qs else "")
        headers = {"Accept": "application/json"}
        response = await self.api.request(method, url, json=body, headers=headers)
        self.sent.append(response.request)
        if not response.is_success:
            raise NodeError(response)
        return response.json() if response.content else None

    def products_path(self, tail: str = "") -> str:
        return f"/organizations/{self.org}/products{tail}"

    # products.*
    async def list(self, data: dict[str, Any] | None = None) -> Any:
        return await self.call("GET", self.products_path("/v2"), data)

    async def count(self) -> int:
        return len(await self.list())

    async def create(self, data: dict[str, Any]) -> Any:
        return await self.call("POST", self.products_path(), body=data)

    async def update(self, product_uuid: str, data: dict[str, Any]) -> Any:
        return await self.call("PUT", self.products_path(f"/v2/{product_uuid}"), body=data)

    async def find(self, product_uuid: str) -> Any:
        return await self.call("GET", self.products_path(f"/{product_uuid}"))

    async def delete(self, product_uuid: str) -> Any:
        return await self.call("DELETE", self.products_path(f"/{product_uuid}"))

    async def bulk_delete(self, data: dict[str, Any]) -> Any:
        return await self.call("DELETE", self.products_path(), data)

    async def options(self) -> Any:
        return await self.call("GET", self.products_path("/options"))

    # categories.*, purchases.*
    async def categories(self) -> Any:
        return await self.call("GET", f"/organizations/{self.org}/categories/v2")

    async def purchases(self, limit: int, descending: bool) -> Any:
        return await self.call("GET", "/purchases/v2", {"limit": limit, "descending": descending})

    async def purchase(self, purchase_uuid: str) -> Any:
        return await self.call("GET", f"/purchase/v2/{purchase_uuid}")


def shirt(category: str, size_values: tuple[str, ...] = ("S", "M")) -> dict[str, Any]:
    return {
        "uuid": new_uuid(),
        "name": "Shirt",
        "category": {"uuid": category, "name": "Clothes"},
        "variantOptionDefinitions": {
            "definitions": [{"name": "Size", "properties": [{"value": v} for v in size_values]}]
        },
        "variants": [
            {
                "uuid": new_uuid(),
                "name": size,
                "options": [{"name": "Size", "value": size}],
                "price": {"amount": 2500, "currencyId": "SEK"},
            }
            for size in size_values
        ],
    }


async def test_products_and_categories_with_the_organization_uuid_option(api: Api) -> None:
    category = new_uuid()
    for client in (NodeClient(api), NodeClient(api, api.org)):
        assert await client.count() == 0
        created = [shirt(category), shirt(category, ("M", "L"))]
        for body in created:
            assert await client.create(body) is None  # 201, no body
        assert await client.count() == 2
        listed = await client.list({"sort": True})
        assert [p["uuid"] for p in listed] == [b["uuid"] for b in created]
        assert client.sent[-1].url.query == b"sort=true"
        found = await client.find(created[0]["uuid"])
        assert found["variants"][1]["options"] == [{"name": "Size", "value": "M"}]
        # No If-Match: the update is unconditional; its answer is the product.
        renamed = await client.update(created[0]["uuid"], {"name": "Linen shirt"})
        assert renamed["name"] == "Linen shirt" and renamed["etag"] != found["etag"]
        [aggregate] = await client.options()
        assert aggregate == {"options": [{"name": "Size", "values": ["S", "M", "L"]}]}
        # The category the products named was created with them.
        assert await client.categories() == {"categories": [{"uuid": category, "name": "Clothes"}]}
        # bulkDelete({uuid: [...]}) → uuid%5B0%5D=…&uuid%5B1%5D=…
        assert await client.bulk_delete({"uuid": [b["uuid"] for b in created]}) is None
        assert client.sent[-1].url.query.decode().startswith("uuid%5B0%5D=")
        assert await client.count() == 0
        assert all("if-match" not in request.headers for request in client.sent)


async def test_a_missing_product_is_a_json_404(api: Api) -> None:
    client = NodeClient(api, api.org)
    missing = new_uuid()
    for call in (client.find(missing), client.delete(missing), client.update(missing, {"name": "x"})):
        try:
            await call
        except NodeError as error:
            assert error.status == 404
        else:
            raise AssertionError("a missing product was found")
    assert [r.method for r in client.sent] == ["GET", "DELETE", "PUT"]


async def test_purchases_list_and_find(api: Api) -> None:
    client = NodeClient(api)
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    sales = []
    for quantity in (1, 2, 3):
        document = {
            "purchaseUuid": new_uuid(),
            "products": [{"productUuid": product, "variantUuid": variant, "quantity": quantity}],
        }
        assert (await api.post("/organizations/self/purchases", json=document)).status_code == 200
        sales.append(document["purchaseUuid"])
    newest = await client.purchases(2, True)
    assert client.sent[-1].url.query == b"limit=2&descending=true"
    assert [p["purchaseUUID1"] for p in newest["purchases"]] == sales[:0:-1]
    oldest = await client.purchases(1000, False)
    assert [p["purchaseUUID1"] for p in oldest["purchases"]] == sales
    assert oldest["linkUrls"] == []
    found = await client.purchase(sales[1])
    assert found == newest["purchases"][1]
    assert [line["quantity"] for line in found["products"]] == ["2"]
