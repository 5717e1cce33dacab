"""POST /organizations/{org}/purchases (spec §9): stock moves by itself when a sale is recorded."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from stockledger.store.db import Database
from tests.api.purchase_helpers import (
    BEANS,
    BEANS_KG,
    CASHIER,
    FIXTURE_LINES,
    REFUND,
    SALE,
    TEE,
    TEE_M,
    TEE_S,
    WRAP,
    balances_of,
    events,
    ledger,
    recorded_purchases,
    stock,
)
from tests.conftest import Api, new_uuid

PURCHASES = "/organizations/self/purchases"


async def post_raw(api: Api, text: str) -> Any:
    """Send the document's exact text, as a point of sale would."""
    return await api.post(PURCHASES, content=text, headers={"Content-Type": "application/json"})


async def test_sale_moves_tracked_lines_store_to_sold_with_purchase_ledger_rows(
    api: Api, db: Database
) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    response = await post_raw(api, FIXTURE_LINES[0])
    assert response.status_code == 200, response.text
    locs = await api.locations()
    body = response.json()
    assert body["purchaseUuid"] == SALE["purchaseUuid"]
    assert body["skipped"] == []
    assert [
        (a["variantUuid"], a["fromLocationUuid"], a["toLocationUuid"], a["change"]) for a in body["applied"]
    ] == [
        (TEE_S, locs["STORE"], locs["SOLD"], "2"),
        (TEE_M, locs["STORE"], locs["SOLD"], "1"),
    ]
    assert await balances_of(api, "STORE") == {TEE_S: "8", TEE_M: "4"}
    assert await balances_of(api, "SOLD") == {TEE_S: "2", TEE_M: "1"}

    rows = [r for r in await ledger(db, api.org) if r["source"] == "PURCHASE"]
    assert [(r["variant_uuid"], r["units"], r["external_uuid"]) for r in rows] == [
        (TEE_S, 2000, SALE["purchaseUuid"]),
        (TEE_M, 1000, SALE["purchaseUuid"]),
    ]
    assert {r["actor"] for r in rows} == {f"SYSTEM:{CASHIER}"}


async def test_sale_writes_system_balance_event_and_republishes_the_purchase(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    before = len(await events(db, api.org))
    assert (await post_raw(api, FIXTURE_LINES[0])).status_code == 200
    written = (await events(db, api.org))[before:]
    assert [name for name, _ in written] == ["InventoryBalanceChanged", "PurchaseCreated"]
    changed, purchase = written[0][1], written[1][1]
    assert changed["updated"]["userType"] == "SYSTEM"
    assert changed["updated"]["uuid"] == CASHIER
    assert changed["externalUuid"] == SALE["purchaseUuid"]
    assert sorted((r["variantUuid"], r["balance"]) for r in changed["balanceAfter"]) == [
        (TEE_S, "8"),
        (TEE_M, "4"),
    ]
    assert purchase == SALE  # the document as the point of sale sent it, extra fields and all


async def test_weighed_custom_amount_and_untracked_lines(api: Api, db: Database) -> None:
    await stock(api, (BEANS, BEANS_KG, "5"), (TEE, TEE_S, "3"))
    response = await post_raw(api, FIXTURE_LINES[1])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(a["index"], a["change"]) for a in body["applied"]] == [(0, "0.45"), (3, "1")]
    assert body["skipped"] == [
        {"index": 1, "reason": "NO_PRODUCT"},
        {"index": 2, "productUuid": WRAP, "reason": "NOT_TRACKED"},
    ]
    assert await balances_of(api, "STORE") == {BEANS_KG: "4.55", TEE_S: "2"}
    assert await balances_of(api, "SOLD") == {BEANS_KG: "0.45", TEE_S: "1"}
    assert [r["units"] for r in await ledger(db, api.org) if r["source"] == "PURCHASE"] == [450, 1000]


async def test_partial_refund_moves_sold_back_to_store_once(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    assert (await post_raw(api, FIXTURE_LINES[0])).status_code == 200
    response = await post_raw(api, FIXTURE_LINES[2])
    assert response.status_code == 200, response.text
    locs = await api.locations()
    applied = response.json()["applied"]
    assert [(a["fromLocationUuid"], a["toLocationUuid"], a["change"]) for a in applied] == [
        (locs["SOLD"], locs["STORE"], "1")
    ]
    assert await balances_of(api, "STORE") == {TEE_S: "9", TEE_M: "4"}
    assert await balances_of(api, "SOLD") == {TEE_S: "1", TEE_M: "1"}
    refund_rows = [r for r in await ledger(db, api.org) if r["external_uuid"] == REFUND["purchaseUuid"]]
    assert [(r["from_location_uuid"], r["units"]) for r in refund_rows] == [(locs["SOLD"], 1000)]


async def test_variant_sold_twice_in_one_purchase_moves_both_quantities(api: Api) -> None:
    await stock(api, (TEE, TEE_S, "10"))
    document = {**SALE, "purchaseUuid": new_uuid()}
    document["products"] = [dict(SALE["products"][0]), {**SALE["products"][0], "id": "1", "quantity": 3}]
    response = await api.post(PURCHASES, json=document)
    assert response.status_code == 200, response.text
    assert [a["change"] for a in response.json()["applied"]] == ["2", "3"]
    assert await balances_of(api, "STORE") == {TEE_S: "5"}


async def test_sale_of_more_than_in_stock_goes_negative(api: Api) -> None:
    await stock(api, (TEE, TEE_S, "1"))
    assert (await post_raw(api, FIXTURE_LINES[0])).status_code == 200
    assert await balances_of(api, "STORE") == {TEE_S: "-1", TEE_M: "-1"}


async def test_line_locations_override_store_and_sold(api: Api) -> None:
    await stock(api, (TEE, TEE_S, "4"))
    locs = await api.locations()
    line = {"productUuid": TEE, "variantUuid": TEE_S, "quantity": "1", "toLocationUuid": locs["BIN"]}
    response = await api.post(PURCHASES, json={"purchaseUuid": new_uuid(), "products": [line]})
    assert response.status_code == 200, response.text
    assert await balances_of(api, "BIN") == {TEE_S: "1"}
    assert await balances_of(api, "STORE") == {TEE_S: "3"}


async def test_second_submission_changes_nothing_and_answers_the_first_result(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    first = await post_raw(api, FIXTURE_LINES[0])
    await api.delete(f"/organizations/self/inventory/products/{TEE}")  # state changes between the two
    count = (len(await ledger(db, api.org)), len(await events(db, api.org)))
    second = await post_raw(api, FIXTURE_LINES[0])
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (len(await ledger(db, api.org)), len(await events(db, api.org))) == count
    assert await recorded_purchases(db, api.org) == [(SALE["purchaseUuid"], "API")]


async def test_concurrent_submissions_apply_once(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    responses = await asyncio.gather(*(post_raw(api, FIXTURE_LINES[0]) for _ in range(4)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    assert sum("Idempotent-Replayed" in r.headers for r in responses) == 3
    assert await balances_of(api, "STORE") == {TEE_S: "8", TEE_M: "4"}
    assert len([r for r in await ledger(db, api.org) if r["source"] == "PURCHASE"]) == 2
    assert [name for name, _ in await events(db, api.org)].count("PurchaseCreated") == 1


async def test_bad_document_is_rejected_with_paths_and_applies_nothing(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"))
    document = json.loads(FIXTURE_LINES[1])
    document["products"][2]["quantity"] = "two"
    document["products"][3]["quantity"] = "0.0001"
    document["products"][0]["variantUuid"] = "nope"
    count = (len(await ledger(db, api.org)), len(await events(db, api.org)))
    response = await api.post(PURCHASES, json=document)
    assert response.status_code == 400
    assert response.json()["errorType"] == "VALIDATION_ERROR"
    assert [v["propertyName"] for v in response.json()["violations"]] == [
        "products[0].variantUuid",
        "products[2].quantity",
        "products[3].quantity",
    ]
    del document["purchaseUuid"]
    response = await api.post(PURCHASES, json=document)
    assert response.json()["violations"][0]["propertyName"] == "purchaseUuid"
    assert (len(await ledger(db, api.org)), len(await events(db, api.org))) == count
    assert await recorded_purchases(db, api.org) == []


async def test_unknown_line_location_is_rejected_and_nothing_recorded(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"))
    good = {"productUuid": TEE, "variantUuid": TEE_S, "quantity": "1"}
    bad = {**good, "fromLocationUuid": new_uuid()}
    response = await api.post(PURCHASES, json={"purchaseUuid": new_uuid(), "products": [good, bad]})
    assert response.status_code == 400
    assert response.json()["violations"] == [
        {"propertyName": "products[1].fromLocationUuid", "developerMessage": "unknown location"}
    ]
    assert await balances_of(api, "STORE") == {TEE_S: "10"}
    assert await recorded_purchases(db, api.org) == []


async def test_malformed_json_is_a_validation_error(api: Api) -> None:
    response = await post_raw(api, '{"purchaseUuid": ')
    assert response.status_code == 400
    assert response.json()["errorType"] == "VALIDATION_ERROR"


async def test_deeply_nested_extra_field_is_a_validation_error_not_a_crash(api: Api, db: Database) -> None:
    document = json.loads(FIXTURE_LINES[0])
    document["details"] = json.loads("[" * 300 + "]" * 300)
    response = await api.post(PURCHASES, json=document)
    assert response.status_code == 400, response.text
    assert await recorded_purchases(db, api.org) == []


async def test_without_a_user_the_token_subject_is_named(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"))
    line = {"productUuid": TEE, "variantUuid": TEE_S, "quantity": 1}
    assert (
        await api.post(PURCHASES, json={"purchaseUuid": new_uuid(), "products": [line]})
    ).status_code == 200
    name, payload = (await events(db, api.org))[-2]
    assert name == "InventoryBalanceChanged"
    assert (payload["updated"]["uuid"], payload["updated"]["userType"]) == (api.sub, "SYSTEM")


async def test_needs_write_purchase_scope_and_own_organization(api: Api, other_api: Api) -> None:
    api.scopes = "READ:PRODUCT WRITE:PRODUCT READ:PURCHASE"
    assert (await api.post(PURCHASES, json=SALE)).status_code == 403
    assert (await other_api.post(f"/organizations/{api.org}/purchases", json=SALE)).status_code == 403
    assert (await api.client.post(PURCHASES, json=SALE)).status_code == 401


async def test_purchase_routes_are_documented(api: Api) -> None:
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    assert "requestBody" in paths["/organizations/{org}/purchases"]["post"]
    assert "/webhooks/zettle/{org}" in paths


async def test_recorded_purchase_fills_catalog_names_for_the_back_office(api: Api) -> None:
    document = json.loads(FIXTURE_LINES[0])
    product = document["products"][0]["productUuid"]
    await api.track(product)
    document["purchaseUuid"] = new_uuid()
    assert (await api.post("/organizations/self/purchases", json=document)).status_code == 200
    entry = await api.get(f"/organizations/self/catalog/products/{product}")
    assert entry.status_code == 200, entry.text
    assert entry.json()["name"] == "T-shirt"
    assert {v["name"] for v in entry.json()["variants"]} == {"Small", "Medium"}
