"""A request whose second change is invalid applies nothing: no balance, movement, event or sequence."""

from __future__ import annotations

from typing import Any

import pytest

from stockledger.store.db import Database
from tests.conftest import Api, new_uuid
from tests.ledger import assert_ledger_invariant

BREAKAGES: dict[str, Any] = {
    "unknown location": lambda c, locs: {**c, "toLocationUuid": new_uuid()},
    "untracked product": lambda c, locs: {**c, "productUuid": new_uuid()},
    "same from and to": lambda c, locs: {**c, "toLocationUuid": c["fromLocationUuid"]},
    "negative change": lambda c, locs: {**c, "change": -1},
}


async def prepared(api: Api) -> tuple[dict[str, str], dict[str, Any]]:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    change = {
        "productUuid": product,
        "variantUuid": variant,
        "fromLocationUuid": locs["SUPPLIER"],
        "toLocationUuid": locs["STORE"],
        "change": 5,
    }
    assert (await api.put("/organizations/self/inventory", json={"changes": [change]})).status_code == 200
    return locs, change


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
async def test_put_with_invalid_second_change_applies_nothing(api: Api, db: Database, breakage: str) -> None:
    locs, change = await prepared(api)
    before = await assert_ledger_invariant(db, api.org)
    latest = (await api.get("/inventory")).json()["latest"]
    sale = {**change, "fromLocationUuid": locs["STORE"], "toLocationUuid": locs["SOLD"], "change": 2}
    body = {"changes": [sale, BREAKAGES[breakage](sale, locs)]}
    response = await api.put("/organizations/self/inventory", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] in {"VALIDATION_ERROR", "PRODUCT_NOT_TRACKED"}
    assert response.json()["violations"][0]["propertyName"].startswith("changes[1].")
    assert await assert_ledger_invariant(db, api.org) == before
    after = (await api.get("/inventory")).json()
    assert after["latest"] == latest
    assert after["variants"][0]["balance"] == "5"


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
async def test_bulk_with_invalid_second_change_applies_nothing(api: Api, db: Database, breakage: str) -> None:
    locs, change = await prepared(api)
    before = await assert_ledger_invariant(db, api.org)
    sale = {**change, "fromLocationUuid": locs["STORE"], "toLocationUuid": locs["SOLD"], "change": 2}
    broken = BREAKAGES[breakage](sale, locs)
    new_product = new_uuid()
    body = {
        "productChanges": [
            {"productUuid": new_product, "trackingStatusChange": "START_TRACKING"},
            {
                "productUuid": change["productUuid"],
                "variantChanges": [{k: v for k, v in sale.items() if k != "productUuid"}],
            },
            {
                "productUuid": broken["productUuid"],
                "variantChanges": [{k: v for k, v in broken.items() if k != "productUuid"}],
            },
        ]
    }
    response = await api.post("/organizations/self/v2/inventory/bulk", json=body)
    assert response.status_code == 400, response.text
    assert await assert_ledger_invariant(db, api.org) == before
    assert (await api.get("/inventory")).json()["trackedProducts"] == [change["productUuid"]]
