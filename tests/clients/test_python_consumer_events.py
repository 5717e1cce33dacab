"""A Python webhook consumer with pydantic models [T]: every event payload stockledger sends parses,
with `clientUuid` typed `UUID | None` (a client id that is no UUID would reject the whole payload)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from tests.api.purchase_helpers import FIXTURE_LINES, TEE, TEE_M, TEE_S, stock
from tests.clients.auth_support import TokenApi, access_token, issue_key, jwt_segments, subscribe
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture
from tests.webhook_receiver import running_receiver


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ChangeInformation(Model):
    uuid: UUID
    timestamp: str
    userType: Literal["USER", "SYSTEM"]
    clientUuid: UUID | None


class Balance(Model):
    organizationUuid: UUID
    locationUuid: UUID
    productUuid: UUID
    variantUuid: UUID
    balance: Decimal


class InventoryBalanceChanged(Model):
    organizationUuid: UUID
    updated: ChangeInformation
    balanceBefore: list[Balance]
    balanceAfter: list[Balance]
    externalUuid: str | None


class InventoryTrackingStarted(Model):
    organizationUuid: UUID
    productUuid: UUID
    created: ChangeInformation


class InventoryTrackingStopped(Model):
    organizationUuid: UUID
    productUuid: UUID
    changeInformation: ChangeInformation


class InventoryLowStock(Balance):
    lowStockLevel: Decimal
    updated: ChangeInformation


class PurchaseCreated(Model):
    purchaseUuid: str


class Envelope(Model):
    organizationUuid: UUID
    messageUuid: UUID
    eventName: str
    messageId: UUID
    payload: str
    timestamp: str


MODELS: dict[str, type[Model]] = {
    m.__name__: m
    for m in (
        InventoryBalanceChanged,
        InventoryTrackingStarted,
        InventoryTrackingStopped,
        InventoryLowStock,
        PurchaseCreated,
    )
}


def change_of(event: Model) -> ChangeInformation | None:
    for name in ("updated", "created", "changeInformation"):
        info = getattr(event, name, None)
        if isinstance(info, ChangeInformation):
            return info
    return None


async def test_every_event_payload_parses_with_a_typed_client_uuid(
    api: Api,
    database_url: str,
    tmp_path: Path,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    key = await issue_key(
        api.org, "READ:PRODUCT WRITE:PRODUCT READ:PURCHASE WRITE:PURCHASE", database_url, tmp_path
    )
    key_client = UUID(jwt_segments(key)[1]["client_id"])
    integration = TokenApi(
        api.client, api.org, bearer=await access_token(api.client, "/token", key, new_uuid())
    )
    api.client_id = "my-integration"  # a token from when the README used this client_id
    product, variant = new_uuid(), new_uuid()
    async with running_receiver() as receiver:
        await subscribe(integration, hooks, receiver.url, [])
        await integration.track(product)
        store = (await integration.locations())["STORE"]
        alert = {"productUuid": product, "variantUuid": variant, "lowStockLevel": 2, "lowStockAlert": True}
        assert (await integration.put(f"/custom-low-stock/locations/{store}", json=alert)).status_code == 204
        locations = await integration.locations()
        assert (await integration.move(product, variant, locations["SUPPLIER"], store, 5)).status_code == 200
        assert (await integration.move(product, variant, store, locations["SOLD"], 4)).status_code == 200
        response = await integration.delete(f"/organizations/self/inventory/products/{product}")
        assert response.status_code == 204
        await api.track(new_uuid())
        await stock(integration, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
        sale = await integration.post("/organizations/self/purchases", content=FIXTURE_LINES[0])
        assert sale.status_code == 200, sale.text
        await hooks.dispatcher.drain()
        received = receiver.events()

    parsed = []
    for delivery in received:
        envelope = Envelope.model_validate_json(delivery.body)
        parsed.append(MODELS[envelope.eventName].model_validate(json.loads(envelope.payload)))
    assert set(MODELS) == {type(event).__name__ for event in parsed}
    clients = {(type(e).__name__, info.userType, info.clientUuid) for e in parsed if (info := change_of(e))}
    assert ("InventoryLowStock", "USER", key_client) in clients
    assert ("InventoryTrackingStarted", "USER", None) in clients  # the old token's `my-integration`
    assert ("InventoryBalanceChanged", "SYSTEM", key_client) in clients  # the sale
    assert {client for _, _, client in clients} == {key_client, None}
