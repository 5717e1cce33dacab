"""Assertions shared by the Inventory API contract tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

BALANCE_KEYS = {"locationUuid", "locationType", "productUuid", "variantUuid", "balance"}
INVENTORY_KEYS = {"locationUuid", "trackedProducts", "variants", "latest"}
LOCATION_KEYS = {"uuid", "type", "name", "description", "default"}


def assert_balance_record(record: dict[str, Any]) -> None:
    assert set(record) == BALANCE_KEYS
    assert all(isinstance(record[k], str) for k in BALANCE_KEYS)


def assert_inventory(body: dict[str, Any]) -> None:
    assert set(body) == INVENTORY_KEYS
    assert isinstance(body["latest"], int) and not isinstance(body["latest"], bool)
    assert body["trackedProducts"] == sorted(body["trackedProducts"])
    for record in body["variants"]:
        assert_balance_record(record)
    keys = [(r["productUuid"], r["variantUuid"]) for r in body["variants"]]
    assert keys == sorted(keys)


async def restock(api: Api, product: str, variant: str, amount: Any) -> None:
    locs = await api.locations()
    response = await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], amount)
    assert response.status_code == 200, response.text
