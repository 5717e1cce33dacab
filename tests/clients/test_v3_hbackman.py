"""woocommerce-zettle, a small WooCommerce plugin on Inventory v3 (v3-client-calls.md §3).

WordPress's HTTP API sends `Authorization`, `Content-Type: application/json` and `Content-Length`
(`0` on a GET) to `/v3/...` without trailing slashes; 200–299 is success. The store and SOLD
inventory UUIDs are settings the shop owner copies in (the WP-CLI command prints the inventories).
Before each push it reads the product's STORE stock and takes the first row of the wanted variant;
it moves the difference without an `identifier` (Woo higher: SOLD → STORE; lower: STORE → SOLD).
Its webhook handler writes every `balanceAfter[]` balance into the shop's stock, whatever the
entry's location.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.clients.v3_support import (
    decoded_array,
    delivered,
    events_named,
    old_balance,
    php_int,
    php_json,
    send,
    subscribed,
)
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture


@dataclass
class Hbackman:
    api: Api
    store: str = ""  # wc_zettle_inventory_store
    sold: str = ""  # wc_zettle_inventory_sold

    async def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        content = php_json(body) if body is not None else b""  # wp_json_encode
        headers = {"Content-Type": "application/json", "Content-Length": str(len(content))}
        return await send(self.api, method, f"/v3{path}", headers=headers, body=content or None)

    async def configure(self) -> list[dict[str, Any]]:
        """`wp zettle get-inventories`, then the owner copies the STORE and SOLD UUIDs into settings."""
        response = await self.request("GET", "/inventories")
        assert response.status_code == 200, response.text
        assert response.request.headers["content-length"] == "0"
        rows = decoded_array(response)
        self.store = next(
            r["inventoryUuid"] for r in rows if r["inventoryType"] == "STORE" and r["defaultInventory"]
        )
        self.sold = next(r["inventoryUuid"] for r in rows if r["inventoryType"] == "SOLD")
        return rows

    async def zettle_balance(self, product: str, variant: str) -> int | None:
        response = await self.request("GET", f"/stock/{self.store}/products/{product}")
        assert 200 <= response.status_code <= 299, response.text
        row = next((r for r in decoded_array(response) if r["variantUuid"] == variant), None)
        return php_int(row["balance"]) if row is not None else None

    async def push(self, product: str, variant: str, woo_stock: int) -> httpx.Response | None:
        zettle = await self.zettle_balance(product, variant) or 0
        if zettle == woo_stock:
            return None
        src, dst = (self.sold, self.store) if woo_stock > zettle else (self.store, self.sold)
        movement = {
            "productUuid": product,
            "variantUuid": variant,
            "change": abs(woo_stock - zettle),
            "from": src,
            "to": dst,
        }
        return await self.request("POST", "/movements", {"movements": [movement]})


async def test_pushes_move_between_store_and_sold_without_an_identifier(api: Api) -> None:
    client = Hbackman(api)
    await client.configure()
    product, variant = new_uuid(), new_uuid()
    assert (
        await api.post("/v3/products", json=[{"productUuid": product, "tracking": "enable"}])
    ).status_code == 204
    assert await client.zettle_balance(product, variant) is None  # no row: "unknown", counted as 0

    raised = await client.push(product, variant, 5)  # SOLD → STORE 5
    assert raised is not None and 200 <= raised.status_code <= 299, raised.text
    assert await client.zettle_balance(product, variant) == 5
    lowered = await client.push(product, variant, 3)  # STORE → SOLD 2
    assert lowered is not None and 200 <= lowered.status_code <= 299, lowered.text
    assert await client.zettle_balance(product, variant) == 3
    assert await client.push(product, variant, 3) is None
    assert await old_balance(api, client.sold, product, variant) == "-3"


async def test_the_webhook_handler_sets_the_shop_stock_to_the_store_balance(
    api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    """Every balanceAfter entry becomes shop stock, so only STORE entries may be there: a SOLD entry
    would overwrite the shop's stock with the number sold."""
    client = Hbackman(api)
    rows = await client.configure()
    system = {r["inventoryUuid"] for r in rows if r["inventoryType"] != "STORE"}
    product, variant = new_uuid(), new_uuid()
    async with subscribed(api, hooks, ["InventoryBalanceChanged"]) as receiver:
        await api.post("/v3/products", json=[{"productUuid": product, "tracking": "enable"}])
        await client.push(product, variant, 8)
        await client.push(product, variant, 6)
        other = await api.post(
            "/v3/movements",
            json={
                "movements": [
                    {
                        "productUuid": product,
                        "variantUuid": variant,
                        "from": client.store,
                        "to": next(iter(system)),
                        "change": 1,
                    }
                ],
                "identifier": "elsewhere",
            },
        )
        assert other.status_code == 204, other.text
        envelopes = await delivered(hooks, receiver)
    changes = events_named(envelopes, "InventoryBalanceChanged")
    assert [c["externalUuid"] for c in changes] == [None, None, "elsewhere"]
    assert all("externalUuid" in c for c in changes)
    shop_stock: dict[tuple[str, str], int] = {}
    for change in changes:
        for entry in change["balanceAfter"]:
            assert entry["locationUuid"] not in system, entry
            shop_stock[(entry["productUuid"], entry["variantUuid"])] = php_int(entry["balance"])
    assert shop_stock == {(product, variant): 5}
    assert await client.zettle_balance(product, variant) == 5
