"""Every balance stays within ±10^15 (thousandths in a signed 64-bit integer): a write that would take
one outside is refused with 400 and changes nothing, on every write path, and `asOf` sums any ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store.db import Database
from tests.api.test_hostile_input import checksum
from tests.conftest import Api, new_uuid
from tests.integration.test_write_batches import in_order
from tests.ledger import assert_ledger_invariant
from tests.quiet_log import assert_quiet, listen

NEAR_LIMIT = "999999999999.999"  # the largest single change
LIMIT_UNITS = 10**18  # 10^15 in thousandths


def changes(product: str, variant: str, src: str, dst: str, quantity: Any, count: int) -> dict[str, Any]:
    change = {
        "productUuid": product,
        "variantUuid": variant,
        "fromLocationUuid": src,
        "toLocationUuid": dst,
        "change": quantity,
    }
    return {"changes": [change] * count}


async def put(api: Api, body: dict[str, Any]) -> Any:
    return await api.put("/organizations/self/inventory", json=body)


@pytest.fixture
async def stocked(api: Api) -> dict[str, str]:
    """A tracked variant whose STORE balance is 10^15 − 1 (SUPPLIER: its opposite)."""
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = changes(product, variant, locs["SUPPLIER"], locs["STORE"], NEAR_LIMIT, 1000)
    response = await put(api, body)
    assert response.status_code == 200, response.text
    assert response.json()["variants"][0]["balance"] == "999999999999999"
    return {**locs, "product": product, "variant": variant}


def assert_out_of_range(response: Any, property_name: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["errorType"] == "VALIDATION_ERROR"
    assert body["violations"][0]["propertyName"] == property_name
    assert "outside ±1000000000000000" in body["violations"][0]["developerMessage"]
    assert body["developerMessage"].startswith(property_name + " would take the balance of variant")


async def test_a_balance_may_reach_the_limit_and_not_pass_it(
    api: Api, db: Database, stocked: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    s = stocked
    one = changes(s["product"], s["variant"], s["SUPPLIER"], s["STORE"], 1, 1)
    response = await put(api, one)
    assert response.status_code == 200, response.text
    assert response.json()["variants"][0]["balance"] == "1000000000000000"
    before = await checksum(db, api.org)
    listen(caplog)
    refused = await put(api, changes(s["product"], s["variant"], s["SUPPLIER"], s["STORE"], "0.001", 1))
    assert_out_of_range(refused, "changes[0].change")
    assert_quiet(caplog)
    assert await checksum(db, api.org) == before
    # SUPPLIER accumulates the opposite running total and is held to the same range
    back = changes(s["product"], s["variant"], s["STORE"], s["SUPPLIER"], 1, 1)
    assert (await put(api, back)).status_code == 200


async def test_the_attack_of_ten_large_puts_stops_at_the_limit_and_as_of_still_answers(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = changes(product, variant, locs["SUPPLIER"], locs["STORE"], NEAR_LIMIT, 1000)
    statuses = [(await put(api, body)).status_code for _ in range(10)]
    assert statuses == [200] + [400] * 9
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.balances[(locs["STORE"], product, variant)] == LIMIT_UNITS - 1000
    now = datetime.now(UTC).isoformat()
    for as_of in ({}, {"asOf": now}, {"asOf": now, "limit": 10}):
        response = await api.get(f"/organizations/self/inventory/locations/{locs['STORE']}", params=as_of)
        assert response.status_code == 200, response.text
        assert response.json()["variants"][0]["balance"] == "999999999999999"


@asynccontextmanager
async def wide_api(settings: Settings, db: Database, max_changes: int) -> AsyncIterator[Api]:
    """A client of a server whose STOCKLEDGER_MAX_CHANGES is raised to `max_changes`."""
    app = create_app(settings.with_overrides(max_changes=max_changes), db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield Api(client, new_uuid())


async def test_one_request_beyond_any_balance_names_the_change_that_crosses_the_limit(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """With STOCKLEDGER_MAX_CHANGES raised, one request's net change can exceed what the database may
    add to a balance: it is refused before anything is written."""
    async with wide_api(settings, db, 10_000) as api:
        locs = await api.locations()
        product, variant = new_uuid(), new_uuid()
        await api.track(product)
        before = await checksum(db, api.org)
        listen(caplog)
        # 3,000 × (10^15 − 1) thousandths; counted from 0, change 1,000 is the one that crosses 10^18
        body = changes(product, variant, locs["SUPPLIER"], locs["STORE"], NEAR_LIMIT, 3000)
        assert_out_of_range(await put(api, body), "changes[1000].change")
        assert_quiet(caplog)
        assert await checksum(db, api.org) == before


async def test_in_a_batch_of_waiting_puts_only_the_one_past_the_limit_fails(
    api: Api, db: Database, stocked: dict[str, str]
) -> None:
    s = stocked
    to_store = [
        lambda q=q: put(api, changes(s["product"], s["variant"], s["SUPPLIER"], s["STORE"], q, 1))
        for q in ("0.5", "1", "0.5")
    ]
    responses = await in_order(api, to_store)
    assert [r.status_code for r in responses] == [200, 400, 200], [r.text for r in responses]
    assert_out_of_range(responses[1], "changes[0].change")
    assert [r.json()["variants"][0]["balance"] for r in (responses[0], responses[2])] == [
        "999999999999999.5",
        "1000000000000000",
    ]
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.balances[(s["STORE"], s["product"], s["variant"])] == LIMIT_UNITS


async def test_a_batch_whose_sum_is_beyond_one_upsert_still_answers_each_put_alone(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    big = changes(product, variant, locs["SUPPLIER"], locs["STORE"], NEAR_LIMIT, 1000)
    responses = await in_order(api, [lambda: put(api, big)] * 3)
    assert [r.status_code for r in responses] == [200, 400, 400], [r.text for r in responses]
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.balances[(locs["STORE"], product, variant)] == LIMIT_UNITS - 1000


async def test_bulk_past_the_limit_is_refused(api: Api, db: Database, stocked: dict[str, str]) -> None:
    s = stocked
    before = await checksum(db, api.org)
    body = {
        "productChanges": [
            {
                "productUuid": s["product"],
                "variantChanges": [
                    {
                        "variantUuid": s["variant"],
                        "fromLocationUuid": s["SUPPLIER"],
                        "toLocationUuid": s["STORE"],
                        "change": 2,
                    }
                ],
            }
        ]
    }
    response = await api.post("/organizations/self/v2/inventory/bulk", json=body)
    assert_out_of_range(response, "productChanges[0].variantChanges[0].change")
    assert await checksum(db, api.org) == before


async def test_a_count_that_would_take_supplier_past_the_limit_is_refused(
    api: Api, db: Database, stocked: dict[str, str]
) -> None:
    s = stocked
    # STORE → BIN brings STORE to 0; SUPPLIER stays at −(10^15 − 1); a count of 2 restocks from SUPPLIER
    to_bin = changes(s["product"], s["variant"], s["STORE"], s["BIN"], NEAR_LIMIT, 1000)
    assert (await put(api, to_bin)).status_code == 200
    before = await checksum(db, api.org)
    count = {"counts": [{"productUuid": s["product"], "variantUuid": s["variant"], "balance": 2}]}
    response = await api.post("/organizations/self/inventory/counts", json=count)
    assert_out_of_range(response, "counts[0].balance")
    assert await checksum(db, api.org) == before


async def test_a_purchase_past_the_limit_is_refused(api: Api, db: Database, stocked: dict[str, str]) -> None:
    s = stocked
    to_sold = changes(s["product"], s["variant"], s["STORE"], s["SOLD"], NEAR_LIMIT, 1000)
    assert (await put(api, to_sold)).status_code == 200
    before = await checksum(db, api.org)
    document = {
        "purchaseUuid": new_uuid(),
        "products": [{"productUuid": s["product"], "variantUuid": s["variant"], "quantity": "2"}],
    }
    response = await api.post("/organizations/self/purchases", json=document)
    assert_out_of_range(response, "products[0].quantity")
    assert await checksum(db, api.org) == before


async def test_as_of_sums_a_ledger_whose_partial_sums_leave_64_bits(settings: Settings, db: Database) -> None:
    """Every balance stays in range, but one request moves 9.5·10^18 thousandths out of STORE and back:
    SQLite's integer sum() overflows on such partial sums ("integer overflow")."""
    async with wide_api(settings, db, 20_000) as api:
        locs = await api.locations()
        product, variant = new_uuid(), new_uuid()
        await api.track(product)
        store, bin_ = locs["STORE"], locs["BIN"]
        there = changes(product, variant, store, bin_, NEAR_LIMIT, 9500)["changes"]
        back = changes(product, variant, bin_, store, NEAR_LIMIT, 9500)["changes"]
        assert (await put(api, {"changes": there + back})).status_code == 200
        assert (
            await put(api, changes(product, variant, locs["SUPPLIER"], store, "2.5", 1))
        ).status_code == 200
        now = datetime.now(UTC).isoformat()
        for location, balance in ((store, "2.5"), (bin_, "0")):
            for params in ({"asOf": now}, {"asOf": now, "limit": 10}):
                response = await api.get(f"/organizations/self/inventory/locations/{location}", params=params)
                assert response.status_code == 200, response.text
                assert response.json()["variants"][0]["balance"] == balance
