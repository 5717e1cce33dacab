"""POST /webhooks/zettle/{org}: Zettle's own PurchaseCreated deliveries, verified by their signature."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from stockledger.domain.signing import signature
from stockledger.service import purchases
from stockledger.store.db import Database
from tests.api.purchase_helpers import (
    FIXTURE_LINES,
    SALE,
    TEE,
    TEE_M,
    TEE_S,
    balances_of,
    events,
    ledger,
    recorded_purchases,
    stock,
)
from tests.conftest import Api

KEY = "zLzClQLQN8yfH8aEjONeXzgJRAHR0zpD7RonFCpizujCUCectBlln0vFArTbLPYa"
TIMESTAMP = "2026-11-26T13:18:11.999Z"


def envelope(org: str, payload: str, event: str = "PurchaseCreated") -> dict[str, Any]:
    return {
        "organizationUuid": org,
        "messageUuid": str(uuid.uuid1()),
        "eventName": event,
        "messageId": str(uuid.uuid4()),
        "payload": payload,
        "timestamp": TIMESTAMP,
    }


async def deliver(
    client: httpx.AsyncClient, org: str, body: dict[str, Any], key: str | None = KEY
) -> httpx.Response:
    """POST as Zettle does: no bearer token, the signature over the raw timestamp and payload texts."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-iZettle-Signature"] = signature(key, body["timestamp"], body["payload"])
    return await client.post(f"/webhooks/zettle/{org}", content=json.dumps(body), headers=headers)


async def test_signed_purchase_created_moves_stock_without_a_bearer_token(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    await purchases.connect(db, api.org, KEY)
    response = await deliver(api.client, api.org, envelope(api.org, FIXTURE_LINES[0]))
    assert response.status_code == 200, response.text
    assert response.json()["purchaseUuid"] == SALE["purchaseUuid"]
    assert await balances_of(api, "STORE") == {TEE_S: "8", TEE_M: "4"}
    rows = [r for r in await ledger(db, api.org) if r["source"] == "PURCHASE"]
    assert {r["external_uuid"] for r in rows} == {SALE["purchaseUuid"]}
    assert await recorded_purchases(db, api.org) == [(SALE["purchaseUuid"], "WEBHOOK")]
    names = [name for name, _ in await events(db, api.org)]
    assert names[-2:] == ["InventoryBalanceChanged", "PurchaseCreated"]


async def test_redelivery_and_api_submission_of_the_same_purchase_apply_once(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    await purchases.connect(db, api.org, KEY)
    body = envelope(api.org, FIXTURE_LINES[0])
    first = await deliver(api.client, api.org, body)
    again = await deliver(api.client, api.org, body)
    via_api = await api.post("/organizations/self/purchases", json=SALE)
    assert first.json() == again.json() == via_api.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await balances_of(api, "STORE") == {TEE_S: "8", TEE_M: "4"}


async def test_bad_or_missing_signature_is_401_and_changes_nothing(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    await purchases.connect(db, api.org, KEY)
    body = envelope(api.org, FIXTURE_LINES[0])
    wrong_key = await deliver(api.client, api.org, body, key="another-key")
    unsigned = await deliver(api.client, api.org, body, key=None)
    tampered = await api.client.post(
        f"/webhooks/zettle/{api.org}",
        content=json.dumps({**body, "payload": body["payload"].replace('"2"', '"20"')}),
        headers={"X-iZettle-Signature": signature(KEY, TIMESTAMP, body["payload"])},
    )
    for response in (wrong_key, unsigned, tampered):
        assert response.status_code == 401, response.text
        assert response.json()["errorType"] == "UNAUTHENTICATED"
    assert await balances_of(api, "STORE") == {TEE_S: "10", TEE_M: "5"}
    assert await recorded_purchases(db, api.org) == []


async def test_organization_without_connection_is_401(api: Api) -> None:
    response = await deliver(api.client, api.org, envelope(api.org, FIXTURE_LINES[0]))
    assert response.status_code == 401
    assert (await deliver(api.client, "not-a-uuid", envelope(api.org, FIXTURE_LINES[0]))).status_code == 401


async def test_reconnecting_replaces_the_signing_key(api: Api, db: Database) -> None:
    await purchases.connect(db, api.org, "old-key")
    await purchases.connect(db, api.org, KEY)
    assert await purchases.signing_key(db, api.org) == KEY
    body = envelope(api.org, FIXTURE_LINES[0])
    assert (await deliver(api.client, api.org, body, key="old-key")).status_code == 401
    assert (await deliver(api.client, api.org, body)).status_code == 200


async def test_test_message_is_204_even_before_the_connection_exists(api: Api, db: Database) -> None:
    # Zettle sends it while the subscription is created, before its signing key can be configured.
    test = {"eventName": "TestMessage", "organizationUuid": api.org, "messageId": str(uuid.uuid4())}
    response = await api.client.post(
        f"/webhooks/zettle/{api.org}", json={**test, "payload": {"data": "payload"}}
    )
    assert response.status_code == 204
    await purchases.connect(db, api.org, KEY)
    signed = {**test, "payload": '{"data":"payload"}', "timestamp": TIMESTAMP}
    assert (await deliver(api.client, api.org, signed)).status_code == 204
    assert (await deliver(api.client, api.org, signed, key="a-new-subscription-key")).status_code == 204
    assert await events(db, api.org) == []


async def test_other_events_are_verified_then_ignored(api: Api, db: Database) -> None:
    await purchases.connect(db, api.org, KEY)
    body = envelope(api.org, '{"productUuid":"x"}', event="ProductCreated")
    assert (await deliver(api.client, api.org, body)).status_code == 204
    assert (await deliver(api.client, api.org, body, key="forged")).status_code == 401
    assert await events(db, api.org) == []


async def test_signed_but_invalid_purchase_document_is_400(api: Api, db: Database) -> None:
    await purchases.connect(db, api.org, KEY)
    document = json.loads(FIXTURE_LINES[0])
    document["products"][1]["quantity"] = "one"
    response = await deliver(api.client, api.org, envelope(api.org, json.dumps(document)))
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyName"] == "products[1].quantity"
    response = await deliver(api.client, api.org, envelope(api.org, "{not json"))
    assert response.status_code == 400
    assert await recorded_purchases(db, api.org) == []


async def test_events_without_a_user_name_the_organization(api: Api, db: Database) -> None:
    await stock(api, (TEE, TEE_S, "10"))
    await purchases.connect(db, api.org, KEY)
    document = {k: v for k, v in SALE.items() if k != "userUuid"}
    document["products"] = SALE["products"][:1]
    assert (await deliver(api.client, api.org, envelope(api.org, json.dumps(document)))).status_code == 200
    name, payload = (await events(db, api.org))[-2]
    assert name == "InventoryBalanceChanged"
    assert payload["updated"] == {
        **payload["updated"],
        "uuid": api.org,
        "userType": "SYSTEM",
        "clientUuid": None,
    }
