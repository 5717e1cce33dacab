"""The WooCommerce "PayPal Point of Sale" plugin [I]: creating its webhook subscription, and its
listener's signature check of every message afterwards.

The listener recognises the TestMessage by casting `payload` to a string and JSON-decoding it to
`{"data": "payload"}` (it cannot verify it: the signing key arrives in the answer to the very POST
that sends it); every other message must carry a valid X-iZettle-Signature, else it answers 401,
and a 401 to the TestMessage makes stockledger refuse the subscription."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from stockledger.domain.signing import signature
from tests.clients.auth_support import subscribe
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture
from tests.webhook_receiver import serving

EVENTS = ["ProductDeleted", "InventoryBalanceChanged", "InventoryTrackingStarted", "InventoryTrackingStopped"]


def php_string(value: Any) -> str:
    """PHP's (string) cast of a decoded JSON value (an array becomes "Array")."""
    if isinstance(value, str):
        return value
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, list | dict):
        return "Array"
    return str(value)


@dataclass
class Listener:
    """The plugin's REST listener: its SignatureVerifier, then 200 (or 401)."""

    signing_key: str = ""  # stored from the subscription's answer; empty until then
    verified: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def is_test_message(self, envelope: dict[str, Any]) -> bool:
        if envelope.get("eventName") != "TestMessage":
            return False
        try:
            payload = json.loads(php_string(envelope.get("payload")))
        except ValueError:
            return False
        return isinstance(payload, dict) and payload.get("data") == "payload"

    def verify(self, envelope: dict[str, Any], header: str | None) -> bool:
        if self.is_test_message(envelope):
            return True
        if not header:
            return False
        signed = f"{php_string(envelope.get('timestamp'))}.{php_string(envelope.get('payload'))}"
        expected = hmac.new(self.signing_key.encode(), signed.encode(), hashlib.sha256).hexdigest()
        return header == expected  # the plugin compares with ===, lowercase hex

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)
        }
        envelope = json.loads(await reader.readexactly(int(headers.get("content-length", "0"))))
        status = 200 if self.verify(envelope, headers.get("x-izettle-signature")) else 401
        if status == 200:
            self.verified.append({**envelope, "signature": headers.get("x-izettle-signature")})
        self.answers.append(status)
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()


async def test_the_subscription_is_created_and_every_message_verifies(
    api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    listener = Listener()
    product, variant = new_uuid(), new_uuid()
    async with serving(listener.handle) as port:
        sub = await subscribe(api, hooks, f"http://127.0.0.1:{port}/wp-json/zettle/v1/webhook/listen", EVENTS)
        listener.signing_key = sub["signingKey"]  # what the plugin stores from the answer
        await api.track(product)
        locations = await api.locations()
        assert (
            await api.move(product, variant, locations["SUPPLIER"], locations["STORE"], 3)
        ).status_code == 200
        response = await api.delete(f"/organizations/self/inventory/products/{product}")
        assert response.status_code == 204, response.text
        await hooks.dispatcher.drain()

    assert listener.answers == [200, 200, 200, 200]
    test, *events = listener.verified
    assert [e["eventName"] for e in events] == [
        "InventoryTrackingStarted",
        "InventoryBalanceChanged",
        "InventoryTrackingStopped",
    ]
    # The TestMessage is the full envelope of every message, and signed like them.
    assert set(test) - {"signature"} == set(events[0]) - {"signature"}
    assert test["payload"] == '{"data":"payload"}' and test["organizationUuid"] == api.org
    assert test["signature"] == signature(sub["signingKey"], test["timestamp"], test["payload"])
