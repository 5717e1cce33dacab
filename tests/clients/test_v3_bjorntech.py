"""The BjornTech WooCommerce Zettle integration (7.9.3), its default Inventory v3 mode
(v3-client-calls.md §2).

Its transport: base URL + path with a trailing slash always added, `Content-Type:
application/json` and the bearer token; a status above 299 is an error whose text is
`violations[0].developerMessage`, else `developerMessage`; a 429 with a numeric `Retry-After` is
waited out and repeated. When *any* answer carries a `Link` header it takes whatever stands between
the first `<` and the last `>` (the greedy `<(.*)>`), sends the same request there — a POST with the
same body — and merges the pages' arrays.

It finds inventories by *name* (`STORE`, `SUPPLIER`, `SOLD`), asks `/v3/products/status/` before
every push, enables tracking when needed, reads the STORE stock of the product, then moves the
difference with a fresh v1 UUID as `identifier` and sets the low-stock level when it differs.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from stockledger.app import create_app
from stockledger.store.db import Database
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
from tests.conftest import Api, make_settings, new_uuid
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture

GREEDY_LINK = re.compile(r"<(.*)>")
MAX_FOLLOWED = 50  # the plugin has no limit; a test stops a server that links a page to itself


class IntegrationError(Exception):
    """What the plugin throws for a status above 299 (its message is what the shop owner sees)."""


def rest_sanitize_boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() not in ("false", "0", "")
    return bool(value)


@dataclass
class Bjorntech:
    api: Api
    requests: list[tuple[str, str]] = field(default_factory=list)  # method, URL of every request sent
    waited_s: list[int] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)  # the `identifier` of every movement sent

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        url = "/" + path.strip("/") + "/"  # trailingslashit()
        content = php_json(body) if body is not None else None
        merged: list[Any] | None = None
        single: Any = None
        followed = 0
        while True:
            response = await self._send(method, url, content)
            if response.status_code > 299:
                raise IntegrationError(self._message(response))
            decoded = response.json() if response.content else None
            if isinstance(decoded, list):
                merged = [*(merged or []), *decoded]  # array_merge of the pages
            else:
                single = decoded
            found = GREEDY_LINK.search(response.headers.get("link", ""))
            if not found:
                return merged if merged is not None else single
            url = found.group(1)  # followed whatever the method and rel, body re-sent
            followed += 1
            assert followed < MAX_FOLLOWED, f"{method} {path}: still a Link after {followed} requests"

    async def _send(self, method: str, url: str, content: bytes | None) -> httpx.Response:
        while True:
            self.requests.append((method, url))
            response = await send(
                self.api, method, url, headers={"Content-Type": "application/json"}, body=content
            )
            retry_after = response.headers.get("retry-after", "")
            if response.status_code == 429 and retry_after.isdigit():
                self.waited_s.append(int(retry_after))
                await asyncio.sleep(int(retry_after))
                continue
            return response

    @staticmethod
    def _message(response: httpx.Response) -> str:
        body = response.json()
        violations = body.get("violations") or []
        if violations and violations[0].get("developerMessage"):
            return str(violations[0]["developerMessage"])
        return str(body.get("developerMessage") or "Error when communicating with Zettle")

    # ---- the plugin's operations ----

    async def get_locations(self) -> dict[str, str]:
        rows = await self.call("GET", "v3/inventories")
        assert isinstance(rows, list)
        return {row["name"]: row["inventoryUuid"] for row in rows}

    async def tracked(self, product: str) -> list[str]:
        rows = await self.call("POST", "v3/products/status", [product])
        assert isinstance(rows, list)
        return [row["productUuid"] for row in rows if rest_sanitize_boolean(row["enabled"])]

    async def location_content(self, product: str) -> dict[str, Any]:
        """`get_location_content`: the STORE rows rebuilt into the old shape the plugin keeps using."""
        locations = await self.get_locations()
        tracked = await self.tracked(product)
        rows = await self.call("GET", f"v3/stock/{locations['STORE']}/products/{product}")
        assert isinstance(rows, list)
        variants = [
            {
                "locationUuid": row["inventoryUuid"],
                "locationType": "STORE",
                "productUuid": row["productUuid"],
                "variantUuid": row["variantUuid"],
                "balance": row["balance"],
                "lowStockLevel": row["lowStockLevel"],
                "lowStockAlert": row["lowStockAlert"],
            }
            for row in rows
        ]
        latest = rows[0]["updated"] if rows else None
        return {
            "locationUuid": locations["STORE"],
            "trackedProducts": tracked,
            "variants": variants,
            "latest": latest,
        }

    async def start_tracking(self, product: str) -> None:
        await self.call("POST", "v3/products", [{"productUuid": product, "tracking": "enable"}])

    async def set_inventory(self, product: str, variant: str, woo_stock: int) -> None:
        """Push WooCommerce's stock: ensure tracking, read Zettle's STORE balance, move the difference."""
        locations = await self.get_locations()
        if product not in await self.tracked(product):
            await self.start_tracking(product)
        content = await self.location_content(product)
        zettle = next((php_int(v["balance"]) for v in content["variants"] if v["variantUuid"] == variant), 0)
        if zettle == woo_stock:
            return
        src, dst = ("SUPPLIER", "STORE") if woo_stock > zettle else ("STORE", "SOLD")
        self.identifiers.append(str(uuid.uuid1()))
        body = {
            "identifier": self.identifiers[-1],
            "movements": [
                {
                    "productUuid": product,
                    "variantUuid": variant,
                    "change": abs(zettle - woo_stock),
                    "from": locations[src],
                    "to": locations[dst],
                }
            ],
        }
        await self.call("POST", "v3/movements", body)

    async def custom_low_stock(self, product: str, variant: str, level: int, alert: bool) -> bool:
        """Writes only when the STORE row's settings differ (PHP's loose ==); True when it wrote."""
        content = await self.location_content(product)
        row = next(v for v in content["variants"] if v["variantUuid"] == variant)
        if row["lowStockLevel"] == level and bool(row["lowStockAlert"]) == alert:
            return False
        item = {
            "productUuid": product,
            "variantUuid": variant,
            "lowStockAlert": alert,
            "lowStockLevel": level,
            "inventoryUuid": content["locationUuid"],
        }
        await self.call("POST", "v3/custom-low-stock", [item])
        return True


async def test_system_inventories_are_found_by_their_names(api: Api) -> None:
    client = Bjorntech(api)
    names = await client.get_locations()
    old = {loc["type"]: loc["uuid"] for loc in (await api.get("/organizations/self/locations")).json()}
    for name in ("STORE", "SUPPLIER", "SOLD"):
        assert names[name] == old[name]
    assert client.requests == [("GET", "/v3/inventories/")]
    with_slash = await api.get("/v3/inventories/")
    without = await api.get("/v3/inventories")
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.json() == without.json() and "link" not in with_slash.headers


async def test_a_created_store_cannot_take_a_type_name_and_the_lookup_stays_on_the_default(api: Api) -> None:
    for name in ("STORE", "SUPPLIER", "SOLD", "BIN"):
        refused = await api.post("/v3/inventories/", json={"name": name})
        assert refused.status_code == 400, (name, refused.text)
    created = await api.post("/v3/inventories/", json={"name": "Pop-up"})
    assert created.status_code == 201, created.text
    names = await Bjorntech(api).get_locations()
    default = next(
        loc["uuid"] for loc in (await api.get("/organizations/self/locations")).json() if loc["default"]
    )
    assert names["STORE"] == default and names["Pop-up"] == created.json()["inventoryUuid"]


async def test_a_stock_push_tracks_reads_and_moves_once(api: Api) -> None:
    client = Bjorntech(api)
    product, variant = new_uuid(), new_uuid()
    assert await client.tracked(product) == []

    await client.set_inventory(product, variant, 7)  # Woo higher: SUPPLIER → STORE 7
    assert await client.tracked(product) == [product]
    content = await client.location_content(product)
    assert [(v["variantUuid"], php_int(v["balance"])) for v in content["variants"]] == [(variant, 7)]
    assert isinstance(content["latest"], str)
    await client.set_inventory(product, variant, 4)  # Woo lower: STORE → SOLD 3
    await client.set_inventory(product, variant, 4)  # equal: nothing sent

    locations = await client.get_locations()
    assert await old_balance(api, locations["STORE"], product, variant) == "4"
    assert await old_balance(api, locations["SOLD"], product, variant) == "3"
    assert await old_balance(api, locations["SUPPLIER"], product, variant) == "-7"
    writes = [url for method, url in client.requests if method == "POST" and "movements" in url]
    assert writes == ["/v3/movements/", "/v3/movements/"]  # no Link made it re-send a movement
    assert all(url.endswith("/") for _m, url in client.requests)


async def test_stock_rows_carry_every_field_the_plugin_reads(api: Api) -> None:
    client = Bjorntech(api)
    product, variant = new_uuid(), new_uuid()
    await client.set_inventory(product, variant, 3)
    locations = await client.get_locations()
    response = await send(
        api,
        "GET",
        f"/v3/stock/{locations['STORE']}/products/{product}/",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200 and "link" not in response.headers
    [row] = decoded_array(response)
    assert row["inventoryUuid"] == locations["STORE"] and row["productUuid"] == product
    assert row["variantUuid"] == variant and row["balance"] == 3
    assert row["lowStockLevel"] is None or isinstance(row["lowStockLevel"], int)
    assert isinstance(row["lowStockAlert"], bool) and isinstance(row["updated"], str)


async def test_custom_low_stock_is_written_once_and_read_back_from_the_stock_row(api: Api) -> None:
    client = Bjorntech(api)
    product, variant = new_uuid(), new_uuid()
    await client.set_inventory(product, variant, 5)
    assert await client.custom_low_stock(product, variant, 1, True) is True
    assert await client.custom_low_stock(product, variant, 1, True) is False  # now equal: not sent
    row = (await client.location_content(product))["variants"][0]
    assert row["lowStockLevel"] == 1 and row["lowStockAlert"] is True
    # The plugin only ever sends integers ≥ 0 and booleans; 0 removes the level.
    assert await client.custom_low_stock(product, variant, 0, False) is True
    row = (await client.location_content(product))["variants"][0]
    assert row["lowStockLevel"] in (None, 0) and row["lowStockAlert"] is False


async def test_errors_give_the_plugin_a_message_to_show(api: Api) -> None:
    client = Bjorntech(api)
    locations = await client.get_locations()
    bad = {
        "identifier": str(uuid.uuid1()),
        "movements": [
            {
                "productUuid": new_uuid(),
                "variantUuid": new_uuid(),
                "change": 0,
                "from": locations["SUPPLIER"],
                "to": locations["STORE"],
            }
        ],
    }
    try:
        await client.call("POST", "v3/movements", bad)
    except IntegrationError as exc:
        assert str(exc) and str(exc) != "Error when communicating with Zettle"
    else:
        raise AssertionError("a movement of 0 was accepted")


async def test_rate_limited_calls_are_waited_out_and_applied_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, rate_limit_per_s=4, rate_limit_burst=4)
    app = create_app(settings, db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as http:
        api = Api(http, str(uuid.uuid4()))
        client = Bjorntech(api)
        product, variant = new_uuid(), new_uuid()
        await client.set_inventory(product, variant, 2)
        assert client.waited_s and all(s == 1 for s in client.waited_s)
        store = (await client.get_locations())["STORE"]
        rows = await client.call("GET", f"v3/stock/{store}/products/{product}")
    assert [(r["variantUuid"], r["balance"]) for r in rows] == [(variant, 2)]


async def test_webhooks_name_the_store_inventory_and_echo_the_identifier(
    api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    client = Bjorntech(api)
    product, variant = new_uuid(), new_uuid()
    async with subscribed(api, hooks) as receiver:
        await client.set_inventory(product, variant, 6)
        await client.set_inventory(product, variant, 2)
        envelopes = await delivered(hooks, receiver)
    store = (await client.get_locations())["STORE"]
    [started] = events_named(envelopes, "InventoryTrackingStarted")
    assert started["productUuid"] == product
    woo_stock: dict[str, int] = {}
    identifiers = []
    for change in events_named(envelopes, "InventoryBalanceChanged"):
        assert isinstance(change["updated"]["timestamp"], str)
        identifiers.append(change["externalUuid"])
        for entry in change["balanceAfter"]:
            assert entry["locationUuid"] == store, entry  # the plugin stops at any other inventory
            before = next(
                b
                for b in change["balanceBefore"]
                if (b["variantUuid"], b["productUuid"]) == (entry["variantUuid"], entry["productUuid"])
            )
            if before["balance"] != entry["balance"]:
                woo_stock[entry["variantUuid"]] = php_int(entry["balance"])
    assert woo_stock == {variant: 2}
    assert identifiers == client.identifiers and len(identifiers) == 2
