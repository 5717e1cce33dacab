"""Product events reach subscribers like inventory events: signed envelopes, payload a JSON string,
in the order of the writes (product-library-api §5)."""

from __future__ import annotations

import json

from tests.api.product_helpers import PRODUCTS, simple_body
from tests.conftest import Api
from tests.integration.webhooks_support import Hooks, verify_like_a_foreign_receiver
from tests.webhook_receiver import running_receiver

PRODUCT_EVENTS = ["ProductCreated", "ProductUpdated", "ProductDeleted"]


async def test_product_events_are_delivered_signed_and_in_order(api: Api, hooks: Hooks) -> None:
    body = simple_body()
    async with running_receiver() as receiver:
        sub = await hooks.subscribe(api, receiver, [*PRODUCT_EVENTS, "InventoryTrackingStarted"])
        assert (await api.post(PRODUCTS, json=body)).status_code == 201
        await api.track(body["uuid"])
        put = await api.put(f"{PRODUCTS}/v2/{body['uuid']}", json={"name": "Cup"}, headers={"If-Match": "*"})
        assert put.status_code == 200
        assert (await api.delete(f"{PRODUCTS}/{body['uuid']}")).status_code == 204
        await hooks.dispatcher.drain()
        received = receiver.events()

    envelopes = [
        verify_like_a_foreign_receiver(r.body, r.headers["x-izettle-signature"], sub["signingKey"])
        for r in received
    ]
    assert [e["eventName"] for e in envelopes] == [
        "ProductCreated",
        "InventoryTrackingStarted",
        "ProductUpdated",
        "ProductDeleted",
    ]
    assert all(isinstance(e["payload"], str) and e["organizationUuid"] == api.org for e in envelopes)
    created, _, updated, deleted = (json.loads(e["payload"]) for e in envelopes)
    assert created["uuid"] == body["uuid"] and created["name"] == "Mug"
    assert updated["newEntity"]["etag"] == put.headers["etag"].strip('"') == put.json()["etag"]
    assert updated["oldEntity"]["etag"] == created["etag"]
    assert deleted["uuid"] == body["uuid"] and deleted["name"] == "Cup"


async def test_a_subscription_to_other_events_receives_no_product_events(api: Api, hooks: Hooks) -> None:
    async with running_receiver() as receiver:
        await hooks.subscribe(api, receiver, ["InventoryBalanceChanged"])
        assert (await api.post(PRODUCTS, json=simple_body())).status_code == 201
        await hooks.dispatcher.drain()
        assert receiver.events() == []
