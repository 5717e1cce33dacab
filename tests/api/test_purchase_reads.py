"""GET /purchase/v2/{uuid} and the purchase objects of the Purchase API (product-library-api §6.2, §6.3):
the purchases recorded through the API, the receiver or an import, in the shape clients read."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.api.purchase_reads import PurchasePageOut
from stockledger.domain.purchase_fields import uuid_b64
from stockledger.service import purchases as purchase_service
from stockledger.service.purchase_import import replay
from stockledger.store.db import Database
from stockledger.store.tables import purchases
from tests.api.purchase_helpers import FIXTURE_LINES, REFUND, SALE, TEE, TEE_M, TEE_S, WEIGHED, stock
from tests.api.test_purchase_webhook import KEY, deliver, envelope
from tests.clients.php_types import is_php_int
from tests.conftest import Api, new_uuid

PURCHASES = "/organizations/self/purchases"


async def record(api: Api, document: dict[str, Any] | str) -> None:
    if isinstance(document, str):
        response = await api.post(PURCHASES, content=document, headers={"Content-Type": "application/json"})
    else:
        response = await api.post(PURCHASES, json=document)
    assert response.status_code == 200, response.text


async def fetch(api: Api, purchase_uuid: str, suffix: str = "") -> dict[str, Any]:
    response = await api.get(f"/purchase/v2/{purchase_uuid}{suffix}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_zettle_timestamp(text: str) -> None:
    assert text.endswith("+0000") and len(text) == 28, text
    datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")  # PHP DateTime and pydantic parse this form


def assert_php_strict(purchase: dict[str, Any]) -> None:
    """The types BjornTech's plugin and ZettleInventoryTracker's models require (§6.3)."""
    for key in ("amount", "vatAmount", "purchaseNumber", "globalPurchaseNumber", "organizationId"):
        assert is_php_int(purchase[key]), key
    for key in ("refund", "refunded", "receiptCopyAllowed"):
        assert isinstance(purchase[key], bool), key
    assert_zettle_timestamp(purchase["timestamp"])
    assert_zettle_timestamp(purchase["created"])
    assert isinstance(purchase["payments"], list) and isinstance(purchase["products"], list)
    for line in purchase["products"]:
        assert isinstance(line["quantity"], str)
        assert isinstance(line["name"], str) and isinstance(line["variantName"], str)
        for key in ("unitPrice", "rowTaxableAmount"):
            assert is_php_int(line[key]), key
        assert isinstance(line["taxExempt"], bool) and isinstance(line["libraryProduct"], bool)
        assert isinstance(line["taxRates"], list)
    for amount in purchase["groupedVatAmounts"].values():
        assert is_php_int(amount)


async def test_a_recorded_sale_reads_back_as_a_v2_purchase(api: Api) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    await record(api, FIXTURE_LINES[0])
    locs = await api.locations()
    purchase = await fetch(api, SALE["purchaseUuid"])
    assert_php_strict(purchase)
    assert purchase["purchaseUUID1"] == SALE["purchaseUuid"]
    assert purchase["purchaseUUID"] == uuid_b64(SALE["purchaseUuid"])
    assert (purchase["amount"], purchase["vatAmount"], purchase["currency"]) == (5400, 900, "GBP")
    assert (purchase["purchaseNumber"], purchase["userDisplayName"]) == (12776, "Till 1")
    assert purchase["timestamp"] == "2025-11-26T13:29:40.798+0000"  # the document's epoch milliseconds
    assert purchase["created"] == "2026-11-26T13:09:40.798+0000"
    assert purchase["payments"] == SALE["payments"]
    assert purchase["references"] == SALE["references"]
    assert purchase["groupedVatAmounts"] == {"20.0": 5400}
    assert (purchase["refund"], purchase["refunded"]) == (False, False)
    small, medium = purchase["products"]
    assert (small["id"], small["quantity"], small["variantUuid"], small["sku"]) == ("0", "2", TEE_S, "TEE-S")
    assert (small["unitPrice"], small["rowTaxableAmount"], small["vatPercentage"]) == (1800, 3000, 20)
    assert small["taxRates"] == [{"percentage": 20}] and small["libraryProduct"] is True
    # Where the stock went: the default store to SOLD.
    assert (small["fromLocationUuid"], small["toLocationUuid"]) == (locs["STORE"], locs["SOLD"])
    assert medium["variantName"] == "Medium"
    # The list answers the same object, as its documented schema says.
    page = (await api.get("/purchases/v2")).json()
    assert page["purchases"] == [purchase]
    PurchasePageOut.model_validate(page, strict=False)


async def test_custom_amounts_and_weighed_lines(api: Api) -> None:
    await record(api, FIXTURE_LINES[1])
    purchase = await fetch(api, WEIGHED["purchaseUuid"])
    assert_php_strict(purchase)
    beans, custom, wrap, _tee = purchase["products"]
    assert (beans["quantity"], beans["unitName"], beans["rowTaxableAmount"]) == ("0.45", "kg", 1313)
    assert (custom["type"], custom["productUuid"], custom["libraryProduct"]) == ("CUSTOM_AMOUNT", None, False)
    assert custom["variantName"] == ""
    assert wrap["variantName"] == ""
    # Untracked and custom lines moved no stock: no locations unless the document gives them.
    assert (wrap["fromLocationUuid"], custom["toLocationUuid"]) == (None, None)


async def test_a_refund_and_the_purchase_it_refunds_name_each_other(api: Api) -> None:
    await record(api, FIXTURE_LINES[0])
    await record(api, FIXTURE_LINES[2])
    original = await fetch(api, SALE["purchaseUuid"])
    refund = await fetch(api, REFUND["purchaseUuid"])
    assert original["refunded"] is True and original["refund"] is False
    assert original["refundedByPurchaseUUIDs1"] == [REFUND["purchaseUuid"]]
    assert original["refundedByPurchaseUUIDs"] == [uuid_b64(REFUND["purchaseUuid"])]
    assert refund["refund"] is True and refund["refunded"] is False
    assert refund["refundsPurchaseUUID1"] == SALE["purchaseUuid"]
    assert refund["refundsPurchaseUUID"] == uuid_b64(SALE["purchaseUuid"])
    assert (refund["amount"], refund["products"][0]["quantity"]) == (-1800, "-1")
    assert refund["products"][0]["rowTaxableAmount"] == -1500


async def test_a_minimal_document_reads_with_the_documented_defaults(api: Api) -> None:
    """Proposal §8 Q2: amounts 0, receipt numbers in sequence, time of recording, the profile's
    country and currency."""
    settings = {"country": "DE", "currency": "EUR"}
    assert (await api.put("/organizations/self/settings", json=settings)).status_code == 200
    product, variant = new_uuid(), new_uuid()
    uuids = [new_uuid() for _ in range(3)]
    before = datetime.now().astimezone()
    for purchase_uuid in uuids:
        line = {"productUuid": product, "variantUuid": variant, "quantity": 1}
        await record(api, {"purchaseUuid": purchase_uuid, "products": [line]})
    numbers = []
    for purchase_uuid in uuids:
        purchase = await fetch(api, purchase_uuid)
        assert_php_strict(purchase)
        assert (purchase["amount"], purchase["vatAmount"]) == (0, 0)
        assert (purchase["country"], purchase["currency"], purchase["source"]) == ("DE", "EUR", "POS")
        stamp = datetime.strptime(purchase["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
        assert abs((stamp - before).total_seconds()) < 60
        for key in ("gpsCoordinates", "serviceCharge", "references", "userDisplayName"):
            assert purchase[key] is None, key
        assert purchase["products"][0]["details"] is None and purchase["products"][0]["discount"] is None
        numbers.append(purchase["purchaseNumber"])
    assert numbers == [1, 2, 3]


async def test_receipt_numbers_continue_after_the_highest_a_document_gave(api: Api) -> None:
    await record(api, FIXTURE_LINES[0])  # purchaseNumber 12776
    plain = new_uuid()
    await record(api, {"purchaseUuid": plain, "products": []})
    assert (await fetch(api, plain))["purchaseNumber"] == 12777


async def test_concurrent_purchases_take_distinct_receipt_numbers(api: Api) -> None:
    uuids = [new_uuid() for _ in range(6)]
    await asyncio.gather(*(record(api, {"purchaseUuid": u, "products": []}) for u in uuids))
    numbers = [(await fetch(api, u))["purchaseNumber"] for u in uuids]
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]


async def kept_document(db: Database, org: str, purchase_uuid: str) -> str | None:
    async def work(conn: AsyncConnection) -> str | None:
        p = purchases.c
        return await conn.scalar(
            select(p.document).where(p.org_uuid == org, p.purchase_uuid == purchase_uuid)
        )

    return await db.read(work)


async def test_every_intake_keeps_the_document_exactly_as_received(api: Api, db: Database) -> None:
    """The API body, the receiver's payload string and the imported line, byte for byte."""
    upper = SALE["purchaseUuid"].upper()
    sent = '{ "purchaseUuid": "' + upper + '",\n  "products": [], "amount": 1.50e3 }'
    await record(api, sent)
    assert await kept_document(db, api.org, SALE["purchaseUuid"]) == sent
    assert (await fetch(api, SALE["purchaseUuid"]))["amount"] == 1500

    await purchase_service.connect(db, api.org, KEY)
    delivered = await deliver(api.client, api.org, envelope(api.org, FIXTURE_LINES[2]))
    assert delivered.status_code == 200, delivered.text
    assert await kept_document(db, api.org, REFUND["purchaseUuid"]) == FIXTURE_LINES[2]

    summary = await replay(db, api.org, [FIXTURE_LINES[1]], max_lines=1000, default_low_stock_units=5000)
    assert summary.recorded == 1
    assert await kept_document(db, api.org, WEIGHED["purchaseUuid"]) == FIXTURE_LINES[1]
    purchase = await fetch(api, WEIGHED["purchaseUuid"])
    assert purchase["purchaseNumber"] == WEIGHED["purchaseNumber"]
    assert purchase["products"][0]["name"] == "Coffee beans"


@pytest.mark.parametrize("form", ["uuid", "upper", "base64", "slash"])
async def test_one_purchase_by_either_uuid_form_and_with_a_trailing_slash(api: Api, form: str) -> None:
    await record(api, FIXTURE_LINES[0])
    purchase_uuid = SALE["purchaseUuid"]
    path = {
        "uuid": purchase_uuid,
        "upper": purchase_uuid.upper(),
        "base64": uuid_b64(purchase_uuid),
        "slash": f"{purchase_uuid}/",
    }[form]
    assert (await fetch(api, path))["purchaseUUID1"] == purchase_uuid


async def test_another_organizations_purchase_is_not_found(api: Api, other_api: Api) -> None:
    await record(api, FIXTURE_LINES[0])
    response = await other_api.get(f"/purchase/v2/{SALE['purchaseUuid']}")
    assert response.status_code == 404
    assert response.json()["errorType"] == "ENTITY_NOT_FOUND"
    assert isinstance(response.json()["developerMessage"], str)
    listed = await other_api.get("/purchases/v2")
    assert listed.json()["purchases"] == []


async def test_an_unknown_purchase_is_404_and_a_malformed_id_400(api: Api) -> None:
    missing = await api.get(f"/purchase/v2/{new_uuid()}/")
    assert missing.status_code == 404 and missing.json()["errorType"] == "ENTITY_NOT_FOUND"
    malformed = await api.get("/purchase/v2/not-a-purchase")
    assert malformed.status_code == 400
    assert malformed.json()["violations"][0]["propertyName"] == "purchaseUuid"


@pytest.mark.parametrize("path", ["/purchases/v2", f"/purchase/v2/{SALE['purchaseUuid']}"])
async def test_reading_purchases_needs_the_read_purchase_scope(api: Api, path: str) -> None:
    await record(api, FIXTURE_LINES[0])
    product_only = Api(api.client, api.org, scopes="READ:PRODUCT WRITE:PRODUCT WRITE:PURCHASE")
    refused = await product_only.get(path)
    assert refused.status_code == 403 and refused.json()["errorType"] == "FORBIDDEN"
    anonymous = await api.client.get(path)
    assert anonymous.status_code == 401 and isinstance(anonymous.json()["developerMessage"], str)
    assert (await Api(api.client, api.org, scopes="READ:PURCHASE").get(path)).status_code == 200


async def test_a_purchase_recorded_before_documents_were_kept_shows_its_stock_lines(
    api: Api, db: Database
) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    await record(api, FIXTURE_LINES[0])

    async def forget_document(conn: AsyncConnection) -> None:
        await conn.execute(
            update(purchases)
            .where(purchases.c.org_uuid == api.org, purchases.c.purchase_uuid == SALE["purchaseUuid"])
            .values(document=None)
        )

    await db.write(forget_document)
    purchase = await fetch(api, SALE["purchaseUuid"])
    assert_php_strict(purchase)
    assert [(line["variantUuid"], line["quantity"]) for line in purchase["products"]] == [
        (TEE_S, "2"),
        (TEE_M, "1"),
    ]
    assert (purchase["amount"], purchase["purchaseNumber"]) == (0, 12776)
    assert purchase["timestamp"] == "2025-11-26T13:29:40.798+0000"


async def test_the_python_package_style_request_is_served(api: Api) -> None:
    """izettle 0.3.5 sends `IF-Match: *` and a JSON content type on every request, and Python's
    `True` for booleans; inpsyde-style clients send a body `[]` even without one expected."""
    await record(api, FIXTURE_LINES[0])
    headers = {"IF-Match": "*", "Content-Type": "application/json"}
    response = await api.request(
        "GET", "/purchases/v2", params={"descending": True, "limit": 5}, headers=headers, content=b"[]"
    )
    assert response.status_code == 200, response.text
    assert [p["purchaseUUID1"] for p in response.json()["purchases"]] == [SALE["purchaseUuid"]]
    one = await api.request("GET", f"/purchase/v2/{SALE['purchaseUuid']}", headers=headers, content=b"[]")
    assert one.status_code == 200
