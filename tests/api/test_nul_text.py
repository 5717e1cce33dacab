"""The NUL character (U+0000): PostgreSQL's text cannot hold it, SQLite's can. Both databases answer
alike: 400 for any text the service would store or look up, except the names of a purchase, whose
sale is recorded with the names stored without it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stockledger.domain.signing import SIGNATURE_HEADER, signature
from stockledger.service import purchases
from stockledger.store.db import Database
from tests.api.purchase_helpers import recorded_purchases
from tests.api.test_hostile_input import checksum
from tests.conftest import Api, new_uuid
from tests.quiet_log import assert_quiet, listen

NUL_TEXT = "Mug\u0000 blue"
REFUSED = "must not contain the NUL character (U+0000)"


def json_requests(s: dict[str, str]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path, body, the violation's property) of every JSON body with a text field."""
    move = {
        "productUuid": s["product"],
        "variantUuid": s["variant"],
        "fromLocationUuid": s["SUPPLIER"],
        "toLocationUuid": s["STORE"],
        "change": 1,
    }
    count = {"productUuid": s["product"], "variantUuid": s["variant"], "balance": 1}
    catalog = f"/organizations/self/catalog/products/{s['product']}"
    return [
        (
            "PUT",
            "/organizations/self/inventory",
            {"changes": [move], "externalUuid": NUL_TEXT},
            "externalUuid",
        ),
        (
            "POST",
            "/organizations/self/inventory/counts",
            {"counts": [count], "externalUuid": NUL_TEXT},
            "externalUuid",
        ),
        ("PUT", catalog, {"name": NUL_TEXT}, "name"),
        (
            "PUT",
            catalog,
            {"name": "Mug", "variants": [{"uuid": s["variant"], "sku": NUL_TEXT}]},
            "variants[0].sku",
        ),
        ("POST", "/organizations/self/locations", {"name": NUL_TEXT}, "name"),
        ("POST", "/organizations/self/locations", {"name": "Shop", "description": NUL_TEXT}, "description"),
        ("PUT", f"/organizations/self/locations/{s['STORE']}", {"name": NUL_TEXT}, "name"),
        (
            "POST",
            "/organizations/self/subscriptions",
            {
                "uuid": new_uuid(),
                "transportName": "WEBHOOK",
                "eventNames": [],
                "destination": "https://example.com/hook\u0000",
                "contactEmail": "ops@example.com",
            },
            "destination",
        ),
        (
            "POST",
            "/organizations/self/subscriptions",
            {
                "uuid": new_uuid(),
                "transportName": "WEBHOOK",
                "eventNames": [],
                "destination": "https://example.com/hook",
                "contactEmail": "ops\u0000@example.com",
            },
            "contactEmail",
        ),
    ]


async def stores_and_catalog(api: Api, product: str) -> Any:
    locations = (await api.get("/organizations/self/locations")).json()
    catalog = await api.get(f"/organizations/self/catalog/products/{product}")
    subscriptions = (await api.get("/organizations/self/subscriptions")).json()
    return locations, catalog.status_code, catalog.json(), subscriptions


@pytest.mark.parametrize("case", range(9))
async def test_a_nul_in_stored_text_is_a_400_on_both_databases(
    api: Api, db: Database, stocked: dict[str, str], caplog: pytest.LogCaptureFixture, case: int
) -> None:
    method, path, body, property_name = json_requests(stocked)[case]
    before = (await checksum(db, api.org), await stores_and_catalog(api, stocked["product"]))
    listen(caplog)
    response = await api.request(method, path, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["errorType"] == "VALIDATION_ERROR"
    assert error["violations"][0] == {"propertyName": property_name, "developerMessage": REFUSED}
    assert_quiet(caplog)
    assert (await checksum(db, api.org), await stores_and_catalog(api, stocked["product"])) == before


@pytest.mark.parametrize(
    ("query", "property_name"),
    [
        ("/organizations/self/inventory/movements?externalUuid=a%00b", "externalUuid"),
        ("/organizations/self/inventory/movements?productUuid=x&limit=%00", "limit"),
        ("/organizations/self/inventory/locations?type=STORE%00", "type"),
        ("/organizations/self/inventory/locations/%00", "path"),
        ("/ui/stock?q=%00", "q"),
    ],
)
async def test_a_nul_in_the_url_is_a_400_on_both_databases(
    api: Api, caplog: pytest.LogCaptureFixture, query: str, property_name: str
) -> None:
    listen(caplog)
    response = await api.get(query)
    assert response.status_code == 400, response.text
    assert response.json()["violations"] == [{"propertyName": property_name, "developerMessage": REFUSED}]
    assert_quiet(caplog)


def sale_named(s: dict[str, str], name: str) -> dict[str, Any]:
    line = {
        "productUuid": s["product"],
        "variantUuid": s["variant"],
        "name": name,
        "variantName": f"Large{name}",
        "sku": "MUG\u0000-L",
        "quantity": "2",
    }
    return {"purchaseUuid": new_uuid(), "products": [line]}


async def assert_recorded_without_nul(api: Api, db: Database, s: dict[str, str], purchase_uuid: str) -> None:
    balances = (await api.get(f"/organizations/self/inventory/locations/{s['STORE']}")).json()["variants"]
    assert [v["balance"] for v in balances] == ["3"]
    assert [uuid for uuid, _ in await recorded_purchases(db, api.org)] == [purchase_uuid]
    catalog = (await api.get(f"/organizations/self/catalog/products/{s['product']}")).json()
    assert catalog["name"] == "Mug blue"
    assert catalog["variants"] == [
        {"uuid": s["variant"], "name": "LargeMug blue", "sku": "MUG-L", "barcode": None}
    ]


async def test_a_purchase_with_nul_in_its_names_is_recorded_with_the_names_cleaned(
    api: Api, db: Database, stocked: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    document = sale_named(stocked, NUL_TEXT)
    listen(caplog)
    response = await api.post("/organizations/self/purchases", json=document)
    assert response.status_code == 200, response.text
    assert_quiet(caplog)
    await assert_recorded_without_nul(api, db, stocked, document["purchaseUuid"])
    # the re-published PurchaseCreated keeps the document as sent (the JSON escape \u0000 is plain text)
    again = await api.post("/organizations/self/purchases", json=document)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"


async def test_a_zettle_delivery_with_nul_in_its_names_is_recorded(
    api: Api, db: Database, stocked: dict[str, str]
) -> None:
    key = "k" * 64
    await purchases.connect(db, api.org, key)
    document = sale_named(stocked, NUL_TEXT)
    payload = json.dumps(document)
    envelope = {"eventName": "PurchaseCreated", "timestamp": "2026-11-26T13:18:11.999Z", "payload": payload}
    headers = {SIGNATURE_HEADER: signature(key, envelope["timestamp"], payload)}
    response = await api.client.post(f"/webhooks/zettle/{api.org}", json=envelope, headers=headers)
    assert response.status_code == 200, response.text
    await assert_recorded_without_nul(api, db, stocked, document["purchaseUuid"])
