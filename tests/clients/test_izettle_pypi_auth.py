"""The PyPI `izettle` client (0.3.5) [Z]: it re-authenticates when, and only when, a 401 says
`ACCESS_TOKEN_EXPIRED`, then retries once; any other 401 raises.

Its own grant (the password grant, retired by Zettle) cannot run here, so its `auth()` is given the
next token, as an operator's harness would. Every call carries its default headers
(`Content-Type: application/json`, `IF-Match: *`); the re-authentication is the same on every route,
shown here on the inventory read that every integration makes first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from stockledger.tokens import mint_access_token
from tests.conftest import TEST_SECRET, Api


class RequestError(Exception):
    """The client's RequestException: raised on any non-2xx answer it does not recover from."""


class Client:
    """The client's request path: _authenticate_request around the call, then _response_handler."""

    def __init__(self, http: httpx.AsyncClient, tokens: Iterator[str]) -> None:
        self.http = http
        self.tokens = tokens
        self.auth_calls = 0
        self.auth()

    def auth(self) -> None:
        self.auth_calls += 1
        token = next(self.tokens)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "IF-Match": "*",
        }

    async def get(self, path: str) -> Any:
        response = await self.http.get(path, headers=self.headers)
        if response.status_code == 401 and response.json()["errorType"] == "ACCESS_TOKEN_EXPIRED":
            self.auth()
            response = await self.http.get(path, headers=self.headers)
        if not response.is_success:
            raise RequestError(f"request error {response.status_code}")
        return response.json() if response.text else {}


def expired(api: Api) -> str:
    return mint_access_token(TEST_SECRET, org=api.org, ttl_s=3600, now_s=int(time.time()) - 7200)


async def test_an_expired_token_is_renewed_and_the_call_retried(api: Api) -> None:
    client = Client(api.client, iter([expired(api), api.token()]))
    locations = await client.get("/organizations/self/locations")
    assert client.auth_calls == 2
    assert {loc["type"] for loc in locations} == {"STORE", "SOLD", "BIN", "SUPPLIER"}


async def test_a_forged_token_is_not_renewed(api: Api) -> None:
    forged = mint_access_token("another-secret-" + "q" * 40, org=api.org)
    client = Client(api.client, iter([forged, api.token()]))
    with pytest.raises(RequestError, match="401"):
        await client.get("/organizations/self/locations")
    assert client.auth_calls == 1
