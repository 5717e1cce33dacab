"""The PyPI `izettle` client (0.3.5) [Z]: it re-authenticates when, and only when, a 401 says
`ACCESS_TOKEN_EXPIRED`, then retries once; any other 401 raises.

Its own grant (the password grant, retired by Zettle) cannot run here, so its `auth()` is given the
next token, as an operator's harness would. Every call carries its default headers
(`Content-Type: application/json`, `IF-Match: *`); the re-authentication is the same on every route,
shown here on the inventory read that every integration makes first."""

from __future__ import annotations

import time

import pytest

from stockledger.tokens import mint_access_token
from tests.clients.izettle_pypi import Client, RequestError
from tests.conftest import TEST_SECRET, Api


def expired(api: Api) -> str:
    return mint_access_token(TEST_SECRET, org=api.org, ttl_s=3600, now_s=int(time.time()) - 7200)


async def test_an_expired_token_is_renewed_and_the_call_retried(api: Api) -> None:
    client = Client(api.client, iter([expired(api), api.token()]))
    locations = await client.request("GET", "/organizations/self/locations")
    assert client.auth_calls == 2
    assert {loc["type"] for loc in locations} == {"STORE", "SOLD", "BIN", "SUPPLIER"}


async def test_a_forged_token_is_not_renewed(api: Api) -> None:
    forged = mint_access_token("another-secret-" + "q" * 40, org=api.org)
    client = Client(api.client, iter([forged, api.token()]))
    with pytest.raises(RequestError, match="401"):
        await client.request("GET", "/organizations/self/locations")
    assert client.auth_calls == 1
