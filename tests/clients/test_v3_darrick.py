"""An iZettleApi fork's Inventory branch (PHP): its one wired v3 call (v3-client-calls.md §5.3).

`GET /v3/inventories`; each row is built into an entity whose `inventoryUuid` is parsed as a UUID,
`name` and `description` are `string` (never null), `inventoryType` one of the four enum cases and
`defaultInventory` a `bool`.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.clients.v3_support import INVENTORY_TYPES, decoded_array, is_strict_string, send
from tests.conftest import Api


def build(row: dict[str, Any]) -> dict[str, Any]:
    """The builder's checks; a failing one is a TypeError in the client."""
    assert str(uuid.UUID(row["inventoryUuid"])) == row["inventoryUuid"], row
    assert is_strict_string(row["name"]) and is_strict_string(row["description"]), row
    assert row["inventoryType"] in INVENTORY_TYPES, row
    assert isinstance(row["defaultInventory"], bool), row
    return row


async def inventories(api: Api) -> list[dict[str, Any]]:
    response = await send(api, "GET", "/v3/inventories", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    return [build(row) for row in decoded_array(response)]


async def test_every_inventory_builds(api: Api) -> None:
    rows = await inventories(api)
    assert sorted(r["inventoryType"] for r in rows) == sorted(INVENTORY_TYPES)
    assert [r["inventoryType"] for r in rows if r["defaultInventory"]] == ["STORE"]


async def test_a_store_created_without_a_description_still_builds(api: Api) -> None:
    created = await api.post("/v3/inventories", json={"name": "Kiosk"})
    assert created.status_code == 201, created.text
    rows = await inventories(api)
    kiosk = next(r for r in rows if r["inventoryUuid"] == created.json()["inventoryUuid"])
    assert (
        kiosk["name"] == "Kiosk" and kiosk["inventoryType"] == "STORE" and kiosk["defaultInventory"] is False
    )
    single = await send(api, "GET", f"/v3/inventories/{kiosk['inventoryUuid']}")
    assert single.status_code == 200, single.text
    assert build(single.json()) == kiosk
