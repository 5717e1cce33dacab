"""Shopware's PayPal plugin (POS part) [S]: the API key it decodes, its token exchange, and its
InventoryBalanceChanged handler that skips the changes made with its own key.

The plugin decodes the key it is given without a JWT library (three base64url segments, JSON) and
hydrates header and payload into structs with strictly typed setters (`strict_types`): a value of
another type is a TypeError, which fails its setup wizard (duplicate-connection check) and answers
400 to every InventoryBalanceChanged (the handler decodes the key to compare client ids)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from stockledger.events.dispatcher import Dispatcher
from tests.clients.auth_support import TokenApi, access_token, issue_key, jwt_segments, subscribe
from tests.clients.php_types import Setters, hydrate
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture
from tests.webhook_receiver import running_receiver

PARTNER_CLIENT_ID = "48804990-9c6d-4579-9c39-eae6d93e5f94"  # the plugin's own id, sent at /token
SCOPES = "READ:PURCHASE READ:FINANCE READ:USERINFO READ:PRODUCT WRITE:PRODUCT"  # what it asks merchants for

# The setters of the plugin's structs: name (as its assign() camel-cases the key) → accepted types.
USER: Setters = {"UserType": str, "Uuid": str, "OrgUuid": str, "UserRole": str}
PAYLOAD: Setters = {
    "Iss": str,
    "Aud": str,
    "Exp": (int, str),
    "Sub": str,
    "Iat": (int, str),
    "Renewed": bool,
    "Scope": list,
    "User": USER,
    "Type": str,
    "ClientId": str,
}
HEADER: Setters = {"Kid": str, "Typ": str, "Alg": str}
CHANGE_INFO: Setters = {"Uuid": str, "Timestamp": str, "UserType": str, "ClientUuid": str}
BALANCE: Setters = {
    n: str for n in ("OrganizationUuid", "LocationUuid", "ProductUuid", "VariantUuid", "Balance")
}


def decode_api_key(key: str) -> dict[str, Any]:
    header, payload = jwt_segments(key)
    return {"header": hydrate(header, HEADER), "payload": hydrate(payload, PAYLOAD)}


async def test_the_plugin_decodes_the_key_and_tells_duplicate_connections_apart(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    key = await issue_key(api.org, SCOPES, database_url, tmp_path)
    decoded = decode_api_key(key)
    assert set(decoded["header"]) == set(HEADER)
    assert set(decoded["payload"]) == set(PAYLOAD)
    assert decoded["payload"]["Scope"] == SCOPES.split()
    assert decoded["payload"]["User"]["OrgUuid"] == api.org
    # checkForDuplicates compares the user uuid of the new key with those already connected.
    another = decode_api_key(await issue_key(api.org, SCOPES, database_url, tmp_path))
    assert another["payload"]["User"]["Uuid"] != decoded["payload"]["User"]["Uuid"]
    # "validate credentials": the grant at `oauth /token/`, with its headers.
    headers = {"X-iZettle-Application-Id": PARTNER_CLIENT_ID}
    await access_token(api.client, "/token/", key, PARTNER_CLIENT_ID, headers)


def verify_like_the_plugin(body: bytes, signature: str, signing_key: str) -> dict[str, Any]:
    """WebhookController: hydrate the envelope, sign stripslashes(timestamp . '.' . payload)."""
    envelope = json.loads(body)
    webhook = hydrate(
        envelope, {n: str for n in ("OrganizationUuid", "MessageUuid", "EventName", "Payload", "Timestamp")}
    )
    signed = (webhook["Timestamp"] + "." + webhook["Payload"]).replace("\\", "")
    expected = hmac.new(signing_key.encode(), signed.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, signature), "Signature is invalid"
    return webhook


def handle_balance_changed(webhook: dict[str, Any], api_key: str) -> bool:
    """InventoryChangedHandler: True when the plugin applies the change, False when it recognises
    its own change (the event's clientUuid is the client id in its API key)."""
    payload = json.loads(webhook["Payload"])
    updated = hydrate(payload["updated"], CHANGE_INFO)
    for record in payload["balanceBefore"] + payload["balanceAfter"]:
        hydrate(record, BALANCE)
    reported = updated.get("ClientUuid")
    own = decode_api_key(api_key)["payload"]["ClientId"]
    return reported is None or reported != own


async def test_the_webhook_handler_skips_its_own_changes_and_applies_the_others(
    api: Api,
    database_url: str,
    tmp_path: Path,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    shop_key = await issue_key(api.org, SCOPES, database_url, tmp_path)
    pos_key = await issue_key(api.org, "READ:PRODUCT WRITE:PRODUCT", database_url, tmp_path)
    shop = TokenApi(
        api.client, api.org, bearer=await access_token(api.client, "/token/", shop_key, PARTNER_CLIENT_ID)
    )
    pos = TokenApi(api.client, api.org, bearer=await access_token(api.client, "/token", pos_key, new_uuid()))
    product, variant = new_uuid(), new_uuid()
    async with running_receiver() as receiver:
        sub = await subscribe(shop, hooks, receiver.url, ["InventoryBalanceChanged"])
        await shop.track(product)
        locations = await shop.locations()
        assert (
            await shop.move(product, variant, locations["SUPPLIER"], locations["STORE"], 5)
        ).status_code == 200
        assert (await pos.move(product, variant, locations["STORE"], locations["SOLD"], 2)).status_code == 200
        dispatcher: Dispatcher = hooks.dispatcher
        await dispatcher.drain()
        deliveries = receiver.events()
    assert len(deliveries) == 2
    applied = [
        handle_balance_changed(
            verify_like_the_plugin(d.body, d.headers["x-izettle-signature"], sub["signingKey"]), shop_key
        )
        for d in deliveries
    ]
    assert applied == [False, True]  # its own restock skipped, the point of sale's sale applied
