"""A Next.js "ZettleAPI" service, a low-quality client not designed for, but not to be broken
needlessly (v3-client-calls.md §7).

It finds inventories through the *old* `GET /organizations/self/locations` (reading `type`, `uuid`,
`name`), posts to `/v3/movements` with two extra keys per movement (`reason`, `timestamp`), moves
decreases STORE → SUPPLIER, and counts `ok || 204` as success.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.clients.v3_support import old_balance, old_locations
from tests.conftest import Api, new_uuid


async def move(api: Api, product: str, variant: str, src: str, dst: str, change: int, reason: str) -> bool:
    movement: dict[str, Any] = {
        "productUuid": product,
        "variantUuid": variant,
        "from": src,
        "to": dst,
        "change": change,
        "reason": reason,
        "timestamp": datetime.now(UTC).isoformat(),
    }
    response = await api.post("/v3/movements", json={"movements": [movement]})
    return response.is_success or response.status_code == 204


async def test_extra_movement_keys_are_ignored_and_store_to_supplier_is_accepted(api: Api) -> None:
    locations = {loc["type"]: loc["uuid"] for loc in await old_locations(api)}
    assert {loc["name"] for loc in await old_locations(api)} >= {"STORE", "SUPPLIER"}
    product, variant = new_uuid(), new_uuid()
    response = await api.post("/v3/products", json=[{"productUuid": product, "tracking": "enable"}])
    assert response.status_code == 204, response.text
    assert await move(api, product, variant, locations["SUPPLIER"], locations["STORE"], 10, "delivery")
    assert await move(api, product, variant, locations["STORE"], locations["SUPPLIER"], 4, "correction")
    assert await old_balance(api, locations["STORE"], product, variant) == "6"
    assert await old_balance(api, locations["SUPPLIER"], product, variant) == "-6"
