"""Values no parser or database may choke on: quantities beyond Decimal's 28 digits, JSON integers of
thousands of digits, a non-ASCII signature header. Each is a 4xx in the Zettle shape, logged in one
line at most, and changes nothing."""

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

# 36 significant digits: Decimal's default context (28 digits) raised InvalidOperation on it
HUGE_QUANTITY = "12345678901234567890123456789012.0001"
HUGE_INTEGER = "9" * 5000  # Python refuses int() of more than 4,300 digits
PLACEHOLDER = "__VALUE__"


def spelled(body: Any, as_number: bool, value: str = HUGE_QUANTITY) -> bytes:
    """The JSON of `body` with its placeholder replaced by `value`, as a JSON number or string."""
    text = json.dumps(body).replace(f'"{PLACEHOLDER}"', value if as_number else f'"{value}"')
    return text.encode()


def move(s: dict[str, str], change: Any) -> dict[str, Any]:
    return {
        "productUuid": s["product"],
        "variantUuid": s["variant"],
        "fromLocationUuid": s["SUPPLIER"],
        "toLocationUuid": s["STORE"],
        "change": change,
    }


def requests_with_a_huge_quantity(s: dict[str, str]) -> list[tuple[str, str, Any, str]]:
    """(method, path, body holding the placeholder, the violation's property) per endpoint family."""
    count = {"productUuid": s["product"], "variantUuid": s["variant"]}
    return [
        ("PUT", "/organizations/self/inventory", {"changes": [move(s, PLACEHOLDER)]}, "changes[0].change"),
        (
            "POST",
            "/organizations/self/v2/inventory/bulk",
            {
                "productChanges": [
                    {
                        "productUuid": s["product"],
                        "variantChanges": [
                            {k: v for k, v in move(s, PLACEHOLDER).items() if k != "productUuid"}
                        ],
                    }
                ]
            },
            "productChanges[0].variantChanges[0].change",
        ),
        (
            "POST",
            "/organizations/self/inventory/counts",
            {"counts": [{**count, "balance": PLACEHOLDER}]},
            "counts[0].balance",
        ),
        (
            "POST",
            "/organizations/self/inventory/counts",
            {"counts": [{**count, "balance": 1, "expectedBalance": PLACEHOLDER}]},
            "counts[0].expectedBalance",
        ),
        (
            "POST",
            "/organizations/self/purchases",
            {"purchaseUuid": new_uuid(), "products": [{**count, "quantity": PLACEHOLDER}]},
            "products[0].quantity",
        ),
        (
            "PUT",
            f"/custom-low-stock/locations/{s['STORE']}",
            {**count, "lowStockLevel": PLACEHOLDER},
            "lowStockLevel",
        ),
        (
            "POST",
            f"/custom-low-stock/locations/{s['STORE']}",
            {"requests": [{**count, "lowStockLevel": PLACEHOLDER}]},
            "requests[0].lowStockLevel",
        ),
    ]


async def low_stock_levels(api: Api, store: str) -> Any:
    response = await api.get(f"/custom-low-stock/v2/locations/{store}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("family", range(7))
@pytest.mark.parametrize("as_number", [True, False], ids=["number", "string"])
async def test_a_quantity_beyond_28_digits_is_a_400_everywhere(
    api: Api,
    db: Database,
    stocked: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    family: int,
    as_number: bool,
) -> None:
    method, path, body, property_name = requests_with_a_huge_quantity(stocked)[family]
    before = (await checksum(db, api.org), await low_stock_levels(api, stocked["STORE"]))
    listen(caplog)
    response = await api.request(
        method, path, content=spelled(body, as_number), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["errorType"] == "VALIDATION_ERROR"
    assert error["violations"][0]["propertyName"] == property_name
    assert "fraction digits" in error["violations"][0]["developerMessage"]
    assert_quiet(caplog)
    assert (await checksum(db, api.org), await low_stock_levels(api, stocked["STORE"])) == before
    assert await recorded_purchases(db, api.org) == []


def purchase_with(amount: str) -> bytes:
    document = {"purchaseUuid": new_uuid(), "amount": PLACEHOLDER, "products": []}
    return spelled(document, True, amount)


async def test_an_integer_of_5000_digits_in_a_purchase_is_a_400(
    api: Api, db: Database, stocked: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    before = await checksum(db, api.org)
    listen(caplog)
    response = await api.post(
        "/organizations/self/purchases",
        content=purchase_with(HUGE_INTEGER),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["violations"][0]["developerMessage"] == (
        "malformed JSON: an integer has more than 4300 digits"
    )
    assert_quiet(caplog)
    assert await checksum(db, api.org) == before
    assert await recorded_purchases(db, api.org) == []


@pytest.mark.parametrize("case", ["envelope-unconnected", "envelope-connected", "signed-payload"])
async def test_an_integer_of_5000_digits_to_the_unauthenticated_receiver_is_a_400(
    api: Api, db: Database, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    key = "k" * 64
    if case != "envelope-unconnected":
        await purchases.connect(db, api.org, key)
    before = await checksum(db, api.org)
    envelope: dict[str, Any] = {"eventName": "PurchaseCreated", "timestamp": "t", "payload": "{}"}
    headers = {"Content-Type": "application/json"}
    if case == "signed-payload":  # read once its signature matched
        envelope["payload"] = purchase_with(HUGE_INTEGER).decode()
        headers[SIGNATURE_HEADER] = signature(key, envelope["timestamp"], envelope["payload"])
        content = json.dumps(envelope).encode()
    else:  # the envelope is read before anything else
        content = spelled({**envelope, "n": PLACEHOLDER}, True, HUGE_INTEGER)
    listen(caplog)
    response = await api.client.post(f"/webhooks/zettle/{api.org}", content=content, headers=headers)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["errorType"] == "VALIDATION_ERROR"
    assert error["violations"][0] == {
        "propertyName": "payload" if case == "signed-payload" else "",
        "developerMessage": "malformed JSON: an integer has more than 4300 digits",
    }
    assert_quiet(caplog)
    assert await checksum(db, api.org) == before


@pytest.mark.parametrize("body", [b'{"changes": ' + HUGE_INTEGER.encode() + b"}", b"1e999999999999999999999"])
async def test_numbers_beyond_what_python_reads_are_a_400_on_validated_routes(
    api: Api, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    listen(caplog)
    response = await api.put(
        "/organizations/self/inventory", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "VALIDATION_ERROR"
    assert response.json()["violations"][0]["developerMessage"].startswith("malformed JSON: ")
    assert_quiet(caplog)


@pytest.mark.parametrize("event", ["PurchaseCreated", "TestMessage"])
async def test_a_signature_header_with_non_ascii_bytes_is_refused_not_a_500(
    api: Api, db: Database, caplog: pytest.LogCaptureFixture, event: str
) -> None:
    await purchases.connect(db, api.org, "k" * 64)
    before = await checksum(db, api.org)
    envelope = {"eventName": event, "timestamp": "2026-11-26T13:18:11.999Z", "payload": "{}"}
    listen(caplog)
    response = await api.client.post(
        f"/webhooks/zettle/{api.org}",
        content=json.dumps(envelope),
        headers={"Content-Type": "application/json", "X-iZettle-Signature": "é".encode("latin-1") + b"\xff"},
    )
    if event == "TestMessage":  # always 204; the mismatch is one warning line
        assert response.status_code == 204
    else:
        assert response.status_code == 401, response.text
        assert response.json() == {
            "developerMessage": "X-iZettle-Signature does not match",
            "errorType": "UNAUTHENTICATED",
        }
    assert_quiet(caplog)
    assert await checksum(db, api.org) == before


@pytest.mark.parametrize(
    ("query", "property_name"),
    [
        (f"/organizations/self/inventory/locations?type=STORE&since={HUGE_INTEGER}", "since"),
        (f"/organizations/self/inventory/locations?type=STORE&limit={HUGE_INTEGER}", "limit"),
        ("/organizations/self/inventory/locations?type=STORE&limit=%C2%B2", "limit"),  # "²" is a digit
        (f"/organizations/self/inventory/movements?limit={HUGE_INTEGER}", "limit"),
        ("/organizations/self/inventory/movements?limit=%C2%B2", "limit"),
    ],
    ids=["since", "limit", "limit-superscript", "history-limit", "history-limit-superscript"],
)
async def test_query_integers_of_any_length_or_script_are_a_400(
    api: Api, caplog: pytest.LogCaptureFixture, query: str, property_name: str
) -> None:
    listen(caplog)
    response = await api.get(query)
    assert response.status_code == 400, response.text
    assert response.json()["violations"][0]["propertyName"] == property_name
    assert_quiet(caplog)
