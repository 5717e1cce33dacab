"""The API behind an external identity provider (STOCKLEDGER_JWKS_URL): who gets in, who gets 401."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from stockledger.app import create_app
from stockledger.store.db import Database
from tests.conftest import TEST_SECRET, make_settings
from tests.jwks_provider import (
    AUDIENCE,
    ISSUER,
    Provider,
    SigningKey,
    claims,
    running_provider,
    unsigned_token,
)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.rsa()


@pytest_asyncio.fixture(loop_scope="session")
async def provider_client(
    key: SigningKey, database_url: str, db: Database, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Provider]]:
    with running_provider(key) as provider:
        settings = make_settings(
            database_url, tmp_path, jwks_url=provider.url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE
        )
        transport = httpx.ASGITransport(app=create_app(settings, db=db))
        async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as client:
            yield client, provider


async def test_provider_token_reads_and_writes_its_organization(
    provider_client: tuple[httpx.AsyncClient, Provider], key: SigningKey
) -> None:
    client, _ = provider_client
    org = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {key.sign(claims(org))}"}
    response = await client.get("/organizations/self/locations", headers=headers)
    assert response.status_code == 200, response.text
    assert len(response.json()) == 4
    me = await client.get("/users/self", headers=headers)
    assert me.json()["organizationUuid"] == org


@pytest.mark.parametrize("kind", ["expired", "alg-none", "wrong-audience", "unknown-kid"])
async def test_bad_provider_tokens_get_401(
    provider_client: tuple[httpx.AsyncClient, Provider], key: SigningKey, kind: str
) -> None:
    client, _ = provider_client
    org = str(uuid.uuid4())
    if kind == "expired":
        token = key.sign(claims(org, iat=int(time.time()) - 7200, exp=int(time.time()) - 60))
    elif kind == "alg-none":
        token = unsigned_token(claims(org), {"alg": "none", "kid": key.kid})
    elif kind == "wrong-audience":
        token = key.sign(claims(org, aud="another-service"))
    else:
        token = key.sign(claims(org), kid="not-published")
    response = await client.get("/organizations/self/locations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["errorType"] == (
        "ACCESS_TOKEN_EXPIRED" if kind == "expired" else "UNAUTHENTICATED"
    )
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_expired_provider_token_that_is_also_wrong_is_unauthenticated(
    provider_client: tuple[httpx.AsyncClient, Provider], key: SigningKey
) -> None:
    """Expiry is reported only for a token that is otherwise good: a client re-authenticating would
    get the same wrong audience again."""
    client, _ = provider_client
    expired = claims(str(uuid.uuid4()), iat=int(time.time()) - 7200, exp=int(time.time()) - 60)
    token = key.sign({**expired, "aud": "another-service"})
    response = await client.get("/organizations/self/locations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["errorType"] == "UNAUTHENTICATED"


async def test_cli_minted_tokens_still_work_with_a_provider_configured(
    provider_client: tuple[httpx.AsyncClient, Provider],
) -> None:
    from stockledger.tokens import mint_access_token

    client, _ = provider_client
    token = mint_access_token(TEST_SECRET, org=str(uuid.uuid4()))
    response = await client.get("/inventory", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
