"""Helpers of the Inventory API v3 client-conformance tests: requests sent with exactly a client's
headers and body bytes, the casts its language applies to what it reads, and the webhooks it gets.

Each client's module (tests/clients/test_v3_*.py) builds its requests from these pieces in the
order and shape v3-client-calls.md records for it; nothing here knows any one client.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.conftest import Api
from tests.integration.webhooks_support import Hooks
from tests.webhook_receiver import Receiver, running_receiver

INVENTORY_TYPES = ("STORE", "SUPPLIER", "SOLD", "BIN")
SUBSCRIBED_EVENTS = [
    "ProductDeleted",
    "InventoryBalanceChanged",
    "InventoryTrackingStarted",
    "InventoryTrackingStopped",
]


def php_json(value: Any) -> bytes:
    """`json_encode` of a PHP array: no spaces, keys in the order they were written."""
    return json.dumps(value, separators=(",", ":")).encode()


async def send(
    api: Api,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    without: Sequence[str] = (),
    token: str | None = None,
) -> httpx.Response:
    """One request with the bearer token (the api's own unless `token`), `headers` as given and the
    client library's defaults named in `without` removed (e.g. `Accept` for a client that sends
    none). `url` may be absolute."""
    bearer = token or api.token()
    request = api.client.build_request(
        method, url, headers={"Authorization": f"Bearer {bearer}", **(headers or {})}, content=body
    )
    for name in without:
        if name in request.headers:
            del request.headers[name]
    return await api.client.send(request)


def php_int(value: Any) -> int:
    """PHP's `(int)` / `intval` of a decoded JSON value: numbers truncate, numeric strings too."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return math.trunc(value)
    if isinstance(value, str):
        found = re.match(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)", value)
        return math.trunc(float(found.group(0))) if found else 0
    return 0


def is_strict_string(value: Any) -> bool:
    """A value a PHP `string` parameter takes under strict_types: a string, never null or a number."""
    return isinstance(value, str)


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def json_integer(value: Any) -> bool:
    """A JSON number without fraction or exponent (`z.number().int()` and PHP's int both take it)."""
    return isinstance(value, int) and not isinstance(value, bool)


def decoded_array(response: httpx.Response) -> list[dict[str, Any]]:
    """The body as a list of objects: every v3 read these clients make must answer a JSON array."""
    body = response.json()
    assert isinstance(body, list), body
    assert all(isinstance(row, dict) for row in body), body
    return body


def error_type(response: httpx.Response) -> str:
    body = response.json()
    assert isinstance(body, dict), body
    return str(body.get("errorType", "UNKNOWN"))


# ---- the reference view every test compares against: the old API over the same ledger ----


async def old_locations(api: Api) -> list[dict[str, Any]]:
    response = await api.get("/organizations/self/locations")
    assert response.status_code == 200, response.text
    return list(response.json())


async def old_balance(api: Api, location: str, product: str, variant: str) -> str | None:
    """The balance the old API shows for one variant in one location (None: no row / untracked)."""
    response = await api.get(f"/organizations/self/inventory/locations/{location}/products/{product}")
    if response.status_code != 200:
        return None
    found = [v for v in response.json()["variants"] if v["variantUuid"] == variant]
    return str(found[0]["balance"]) if found else None


async def ledger_size(api: Api) -> int:
    """How many movements the organization's ledger holds (the extension's history, every page)."""
    count, url = 0, "/organizations/self/inventory/movements?limit=1000"
    while url:
        response = await api.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        count += len(body["movements"])
        after = body.get("nextCursor")
        url = f"/organizations/self/inventory/movements?limit=1000&cursor={after}" if after else ""
    return count


# ---- webhooks ----


@asynccontextmanager
async def subscribed(api: Api, hooks: Hooks, events: list[str] | None = None) -> AsyncIterator[Receiver]:
    """A receiver subscribed to the inventory events the v3 plugins subscribe to."""
    async with running_receiver() as receiver:
        await hooks.subscribe(api, receiver, events or SUBSCRIBED_EVENTS)
        yield receiver


async def delivered(hooks: Hooks, receiver: Receiver) -> list[dict[str, Any]]:
    """Every envelope delivered so far (the TestMessage left out), in delivery order."""
    hooks.catch_up_with_wall_clock()
    await hooks.dispatcher.drain()
    return [dict(r.json()) for r in receiver.events()]


def payload_of(envelope: dict[str, Any]) -> dict[str, Any]:
    """The payload as PHP's json_decode sees it: a JSON *string* inside the envelope."""
    text = envelope["payload"]
    assert isinstance(text, str), envelope
    decoded = json.loads(text)
    assert isinstance(decoded, dict)
    return decoded


def events_named(envelopes: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [payload_of(e) for e in envelopes if e["eventName"] == name]
