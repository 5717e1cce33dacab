"""Inventory API v3 low stock (v3 contract §9): `POST /v3/custom-low-stock` writes the settings the old
`/custom-low-stock/…` endpoints manage, field by field."""

from __future__ import annotations

from typing import Any

import pytest

from stockledger.store.db import Database
from tests.api.low_stock_support import configs, low_stock_events, put, stored_rows
from tests.api.test_route_security import org_checksum
from tests.conftest import Api, new_uuid

LOW_STOCK = "/v3/custom-low-stock"


async def post(api: Api, *entries: dict[str, Any], path: str = LOW_STOCK) -> None:
    response = await api.post(path, json=list(entries))
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "link" not in response.headers


def entry(stocked: dict[str, str], **fields: Any) -> dict[str, Any]:
    return {
        "inventoryUuid": stocked["STORE"],
        "productUuid": stocked["product"],
        "variantUuid": stocked["variant"],
        **fields,
    }


async def setting(api: Api, stocked: dict[str, str], location: str | None = None) -> dict[str, Any] | None:
    """The variant's setting as the old API shows it, None when nothing is stored."""
    for product in await configs(api, location or stocked["STORE"]):
        for variant in product["customLowStockLevelForVariants"]:
            if product["productUuid"] == stocked["product"] and variant["variantUuid"] == stocked["variant"]:
                found: dict[str, Any] = variant
                return found
    return None


async def test_a_level_set_through_v3_is_read_by_the_old_api(api: Api, stocked: dict[str, str]) -> None:
    await post(api, entry(stocked, lowStockLevel=1, lowStockAlert=True), path=LOW_STOCK + "/")
    assert await setting(api, stocked) == {
        "variantUuid": stocked["variant"],
        "customLowStockLevel": 1.0,
        "lowStockAlert": True,
    }


async def test_a_level_set_through_the_old_api_is_kept_by_a_v3_write_of_the_alert_only(
    api: Api, stocked: dict[str, str]
) -> None:
    await put(
        api, stocked["STORE"], stocked["product"], stocked["variant"], lowStockLevel=5, lowStockAlert=True
    )
    await post(api, entry(stocked, lowStockAlert=False))
    assert await setting(api, stocked) == {
        "variantUuid": stocked["variant"],
        "customLowStockLevel": 5.0,
        "lowStockAlert": False,
    }


async def test_omitted_fields_stay_as_stored(api: Api, stocked: dict[str, str]) -> None:
    await post(api, entry(stocked, lowStockLevel=4, lowStockAlert=True))
    await post(api, entry(stocked, lowStockLevel="7.5"))
    assert await setting(api, stocked) == {
        "variantUuid": stocked["variant"],
        "customLowStockLevel": 7.5,
        "lowStockAlert": True,
    }
    await post(api, entry(stocked, lowStockAlert=None))  # a null alert counts as omitted
    await post(api, entry(stocked))
    assert (await setting(api, stocked) or {})["customLowStockLevel"] == 7.5
    await post(api, entry(stocked, lowStockAlert=False))
    assert await setting(api, stocked) == {
        "variantUuid": stocked["variant"],
        "customLowStockLevel": 7.5,
        "lowStockAlert": False,
    }


@pytest.mark.parametrize("removal", [None, 0, "0", 0.0])
async def test_a_null_or_zero_level_removes_the_level(
    api: Api, db: Database, stocked: dict[str, str], removal: Any
) -> None:
    await post(api, entry(stocked, lowStockLevel=3, lowStockAlert=True))
    await post(api, entry(stocked, lowStockLevel=removal))
    assert await setting(api, stocked) == {
        "variantUuid": stocked["variant"],
        "customLowStockLevel": None,
        "lowStockAlert": True,
    }
    await post(api, entry(stocked, lowStockLevel=2, lowStockAlert=False))
    await post(api, entry(stocked, lowStockLevel=removal))
    # No level and no alert is the default: nothing stays stored.
    assert await setting(api, stocked) is None
    assert await stored_rows(db, api.org) == 0


async def test_entries_apply_in_order_and_in_any_inventory(api: Api, stocked: dict[str, str]) -> None:
    shop = (await api.post("/v3/inventories", json={"name": "Shop 2"})).json()["inventoryUuid"]
    await post(
        api,
        entry(stocked, lowStockLevel=3, lowStockAlert=True),
        entry(stocked, lowStockLevel=5),
        entry(stocked, inventoryUuid=shop, lowStockLevel=8),
        entry(stocked, inventoryUuid=stocked["SOLD"], lowStockAlert=True),
    )
    assert await setting(api, stocked) == {
        "variantUuid": stocked["variant"],
        "customLowStockLevel": 5.0,
        "lowStockAlert": True,
    }
    assert (await setting(api, stocked, shop) or {}).get("customLowStockLevel") == 8.0
    assert await setting(api, stocked, stocked["SOLD"]) == {
        "variantUuid": stocked["variant"],
        "customLowStockLevel": None,
        "lowStockAlert": True,
    }


async def test_a_v3_level_raises_the_low_stock_event_when_stock_crosses_it(
    api: Api, db: Database, stocked: dict[str, str]
) -> None:
    await post(api, entry(stocked, lowStockLevel=2, lowStockAlert=True))
    response = await api.move(stocked["product"], stocked["variant"], stocked["STORE"], stocked["SOLD"], 3)
    assert response.status_code == 200, response.text
    events = await low_stock_events(db, api.org)
    assert len(events) == 1
    assert events[0]["locationUuid"] == stocked["STORE"]
    assert events[0]["variantUuid"] == stocked["variant"]
    assert events[0]["lowStockLevel"] == 2.0


async def test_an_unknown_or_another_organizations_inventory_is_400_and_nothing_is_stored(
    api: Api, other_api: Api, db: Database, stocked: dict[str, str]
) -> None:
    theirs = (await other_api.locations())["STORE"]
    before = await org_checksum(db, api.org)
    for inventory in (new_uuid(), theirs):
        response = await api.post(
            LOW_STOCK,
            json=[
                entry(stocked, lowStockLevel=1, lowStockAlert=True),
                entry(stocked, inventoryUuid=inventory),
            ],
        )
        assert response.status_code == 400, response.text
        assert response.json()["errorType"] == "VALIDATION_ERROR"
        assert [v["propertyName"] for v in response.json()["violations"]] == ["[1].inventoryUuid"]
    assert await org_checksum(db, api.org) == before
    assert await stored_rows(db, other_api.org) == 0


async def test_a_product_not_tracked_is_refused_and_nothing_is_stored(
    api: Api, db: Database, stocked: dict[str, str]
) -> None:
    untracked = new_uuid()
    before = await org_checksum(db, api.org)
    response = await api.post(
        LOW_STOCK,
        json=[entry(stocked, lowStockLevel=1), entry(stocked, productUuid=untracked, lowStockLevel=1)],
    )
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "PRODUCT_NOT_TRACKED"
    assert [v["propertyName"] for v in response.json()["violations"]] == ["[1].productUuid"]
    assert await org_checksum(db, api.org) == before


@pytest.mark.parametrize(
    ("fields", "property_name"),
    [
        ({"lowStockLevel": -1}, "[0].lowStockLevel"),
        ({"lowStockLevel": "1.0001"}, "[0].lowStockLevel"),
        ({"lowStockLevel": "many"}, "[0].lowStockLevel"),
        ({"lowStockAlert": "yes"}, "[0].lowStockAlert"),
        ({"lowStockAlert": 1}, "[0].lowStockAlert"),
        ({"variantUuid": "v"}, "[0].variantUuid"),
        ({"productUuid": None}, "[0].productUuid"),
        ({"inventoryUuid": "STORE"}, "[0].inventoryUuid"),
    ],
)
async def test_an_invalid_entry_is_400_and_nothing_is_stored(
    api: Api, db: Database, stocked: dict[str, str], fields: dict[str, Any], property_name: str
) -> None:
    await post(api, entry(stocked, lowStockLevel=1, lowStockAlert=True))
    before = await org_checksum(db, api.org)
    response = await api.post(LOW_STOCK, json=[entry(stocked, **fields), entry(stocked, lowStockLevel=9)])
    assert response.status_code == 400, response.text
    assert response.json()["violations"][0]["propertyName"] == property_name
    assert await org_checksum(db, api.org) == before


async def test_a_body_that_is_not_a_list_or_too_long_is_400(
    api: Api, db: Database, stocked: dict[str, str]
) -> None:
    before = await org_checksum(db, api.org)
    for body in (entry(stocked, lowStockLevel=1), [entry(stocked, lowStockLevel=1)] * 1001):
        response = await api.post(LOW_STOCK, json=body)
        assert response.status_code == 400, response.text
    assert await org_checksum(db, api.org) == before


async def test_scopes_and_tokens(api: Api, db: Database, stocked: dict[str, str]) -> None:
    before = await org_checksum(db, api.org)
    body = [entry(stocked, lowStockLevel=1, lowStockAlert=True)]
    reader = Api(api.client, api.org, scopes="READ:PRODUCT")
    response = await reader.post(LOW_STOCK, json=body)
    assert response.status_code == 403 and response.json()["errorType"] == "FORBIDDEN"
    response = await api.client.post(LOW_STOCK, json=body)
    assert response.status_code == 401 and response.json()["errorType"] == "UNAUTHENTICATED"
    assert await org_checksum(db, api.org) == before


async def test_a_write_with_an_idempotency_key_is_replayed(api: Api, stocked: dict[str, str]) -> None:
    headers = {"Idempotency-Key": new_uuid()}
    body = [entry(stocked, lowStockLevel=4, lowStockAlert=True)]
    first = await api.post(LOW_STOCK, json=body, headers=headers)
    await post(api, entry(stocked, lowStockLevel=6))
    again = await api.post(LOW_STOCK, json=body, headers=headers)
    assert first.status_code == again.status_code == 204
    assert again.headers["idempotent-replayed"] == "true"
    assert (await setting(api, stocked) or {})["customLowStockLevel"] == 6.0
