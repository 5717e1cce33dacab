"""Komisio's TypeScript Zettle adapter, both published versions (v3-client-calls.md §4).

It is the strictest v3 client: `Accept: application/json` on every call and `Content-Type` only
with a body; a redirect, a `Link` header on *any* answer (it refuses partial lists) or a body above
its limits (64 KiB for inventories, 8 KiB otherwise) is a failure; every UUID is validated; writes
must answer exactly 204. Inventories: at most 100 rows, exactly one of each type with four distinct
UUIDs. Stock rows: at most one per read, the token's organization, the requested inventory and
product, the expected variant, and `balance` an integer JSON number within ±1,000,000.

v1 asks the tracking status expecting exactly one row and reads the product in all four
inventories; v2 accepts zero or one status row and reads STORE only.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.clients.v3_support import INVENTORY_TYPES, is_uuid, json_integer, send
from tests.conftest import Api, new_uuid

INVENTORY_BODY_LIMIT = 64 * 1024
OTHER_BODY_LIMIT = 8 * 1024
BALANCE_RANGE = 1_000_000


class AdapterError(Exception):
    pass


@dataclass
class Komisio:
    api: Api
    version: int  # 1 or 2

    async def request(
        self, method: str, path: str, body: Any = None, limit: int = OTHER_BODY_LIMIT
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body).encode()
        response = await send(self.api, method, f"/v3{path}", headers=headers, body=content)
        if 300 <= response.status_code < 400:
            raise AdapterError("redirects are refused")
        if response.status_code in (401, 403):
            raise AdapterError("re-authorise")
        if response.status_code == 429:
            raise AdapterError("rate limited")
        if "link" in response.headers:
            raise AdapterError(f"partial list refused: {response.headers['link']}")
        if len(response.content) > limit:
            raise AdapterError("answer too large")
        if not 200 <= response.status_code < 300:
            raise AdapterError(f"failed: {response.status_code} {response.text}")
        return response

    async def inventories(self) -> dict[str, str]:
        response = await self.request("GET", "/inventories", limit=INVENTORY_BODY_LIMIT)
        rows = response.json()
        if not isinstance(rows, list) or len(rows) > 100:
            raise AdapterError("not an inventory list")
        by_type: dict[str, str] = {}
        for row in rows:
            if not is_uuid(row.get("inventoryUuid")) or row.get("inventoryType") not in INVENTORY_TYPES:
                raise AdapterError(f"bad inventory {row}")
            if row["inventoryType"] in by_type:
                raise AdapterError(f"two inventories of type {row['inventoryType']}")
            by_type[row["inventoryType"]] = row["inventoryUuid"]
        if set(by_type) != set(INVENTORY_TYPES) or len(set(by_type.values())) != 4:
            raise AdapterError("not exactly one inventory per type")
        return by_type

    async def is_tracked(self, product: str) -> bool:
        rows = (await self.request("POST", "/products/status", [product])).json()
        allowed = (1,) if self.version == 1 else (0, 1)
        if not isinstance(rows, list) or len(rows) not in allowed:
            raise AdapterError(f"status rows: {rows}")
        if not rows:
            return False
        [row] = rows
        if row.get("productUuid") != product or not isinstance(row.get("enabled"), bool):
            raise AdapterError(f"status row: {row}")
        return bool(row["enabled"])

    async def enable(self, product: str) -> None:
        response = await self.request("POST", "/products", [{"productUuid": product, "tracking": "enable"}])
        if response.status_code != 204:
            raise AdapterError(f"tracking answered {response.status_code}")

    async def balance(self, inventory: str, product: str, variant: str) -> int:
        response = await self.request("GET", f"/stock/{inventory}/products/{product}")
        rows = response.json()
        if not isinstance(rows, list) or len(rows) > 1:
            raise AdapterError(f"stock rows: {rows}")
        if not rows:
            return 0
        [row] = rows
        expected = {
            "organizationUuid": self.api.org,
            "inventoryUuid": inventory,
            "productUuid": product,
            "variantUuid": variant,
        }
        for name, value in expected.items():
            if row.get(name) != value:
                raise AdapterError(f"{name} of {row}")
        balance = row.get("balance")
        if not json_integer(balance) or abs(balance) > BALANCE_RANGE:
            raise AdapterError(f"balance {balance!r}")
        return int(balance)

    async def receive(self, product: str, variant: str, inventories: dict[str, str]) -> str:
        """One unit SUPPLIER → STORE, identified by a UUID of the business intent; never retried."""
        intent = str(uuid.uuid4())
        movement = {
            "productUuid": product,
            "variantUuid": variant,
            "change": 1,
            "from": inventories["SUPPLIER"],
            "to": inventories["STORE"],
        }
        response = await self.request("POST", "/movements", {"identifier": intent, "movements": [movement]})
        if response.status_code != 204:
            raise AdapterError(f"movement answered {response.status_code}")
        return intent


async def test_komisio_v1_receives_one_unit_and_reads_all_four_inventories(api: Api) -> None:
    client = Komisio(api, version=1)
    inventories = await client.inventories()
    product, variant = new_uuid(), new_uuid()
    assert await client.is_tracked(product) is False  # exactly one row, enabled false
    await client.enable(product)
    assert await client.is_tracked(product) is True
    before = {kind: await client.balance(inventories[kind], product, variant) for kind in INVENTORY_TYPES}
    assert before == {"STORE": 0, "SUPPLIER": 0, "SOLD": 0, "BIN": 0}
    await client.receive(product, variant, inventories)
    after = {kind: await client.balance(inventories[kind], product, variant) for kind in INVENTORY_TYPES}
    assert after == {"STORE": 1, "SOLD": 0, "BIN": 0, "SUPPLIER": -1}


async def test_komisio_v2_reads_the_store_only_and_accepts_an_empty_status(api: Api) -> None:
    client = Komisio(api, version=2)
    inventories = await client.inventories()
    product, variant = new_uuid(), new_uuid()
    if not await client.is_tracked(product):
        await client.enable(product)
    await client.enable(product)  # enabling twice is still exactly 204
    assert await client.is_tracked(product) is True
    for _ in range(3):
        await client.receive(product, variant, inventories)
    assert await client.balance(inventories["STORE"], product, variant) == 3


async def test_balances_stay_integer_json_numbers_within_the_adapter_range(api: Api) -> None:
    client = Komisio(api, version=2)
    inventories = await client.inventories()
    product, variant = new_uuid(), new_uuid()
    await client.enable(product)
    big = {
        "identifier": str(uuid.uuid4()),
        "movements": [
            {
                "productUuid": product,
                "variantUuid": variant,
                "change": 99_999,
                "from": inventories["SUPPLIER"],
                "to": inventories["STORE"],
            }
        ],
    }
    for _ in range(10):
        assert (await client.request("POST", "/movements", big)).status_code == 204
    assert await client.balance(inventories["STORE"], product, variant) == 999_990


async def test_no_answer_a_komisio_call_gets_carries_a_link_header(api: Api) -> None:
    """Many tracked products do not make the small reads paged."""
    client = Komisio(api, version=1)
    inventories = await client.inventories()
    products = [new_uuid() for _ in range(120)]
    response = await api.post(
        "/v3/products", json=[{"productUuid": p, "tracking": "enable"} for p in products]
    )
    assert response.status_code == 204, response.text
    movements = [
        {
            "productUuid": p,
            "variantUuid": new_uuid(),
            "change": 1,
            "from": inventories["SUPPLIER"],
            "to": inventories["STORE"],
        }
        for p in products
    ]
    response = await api.post("/v3/movements", json={"movements": movements})
    assert response.status_code == 204, response.text
    assert await client.inventories() == inventories
    for product in products[:3]:
        assert await client.is_tracked(product) is True
        variant = next(m["variantUuid"] for m in movements if m["productUuid"] == product)
        assert await client.balance(inventories["STORE"], product, variant) == 1
