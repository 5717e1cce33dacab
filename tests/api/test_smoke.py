"""The seed guide's walkthrough end to end: locations, tracking, restock, sale, fetch."""

from __future__ import annotations

from tests.conftest import Api, new_uuid

BALANCE_KEYS = {"locationUuid", "locationType", "productUuid", "variantUuid", "balance"}


async def test_restock_then_sell_shows_exact_string_balance(api: Api) -> None:
    product, variant = new_uuid(), new_uuid()
    locs = await api.locations()
    await api.track(product)
    response = await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], "10")
    assert response.status_code == 200, response.text
    response = await api.move(product, variant, locs["STORE"], locs["SOLD"], 2.5)
    assert response.status_code == 200, response.text
    assert response.json()["variants"][0]["balance"] == "7.5"

    inventory = (await api.get("/inventory")).json()
    assert set(inventory) == {"locationUuid", "trackedProducts", "variants", "latest"}
    assert inventory["trackedProducts"] == [product]
    assert [set(v) for v in inventory["variants"]] == [BALANCE_KEYS]
    assert inventory["variants"][0]["balance"] == "7.5"
    assert isinstance(inventory["latest"], int) and inventory["latest"] > 0
