"""API keys carry Zettle's claims; POST /token takes UUID client ids and keeps accepting older keys."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import jwt
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store import apikeys
from stockledger.store.db import Database
from stockledger.store.tables import outbox
from stockledger.tokens import mint_api_key
from tests.conftest import TEST_SECRET, Api, new_uuid

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ZETTLE_CLAIMS = ["iss", "aud", "exp", "sub", "iat", "renewed", "scope", "user", "type", "client_id"]


async def record(db: Database, key_id: str, org: str, sub: str, scopes: str) -> None:
    async def insert(conn: AsyncConnection) -> None:
        await apikeys.insert(conn, key_id, org, sub, scopes)

    await db.write(insert)


async def issued_key(db: Database, org: str, **options: Any) -> tuple[str, str]:
    """A recorded key of this server: (key, its subject)."""
    sub = new_uuid()
    key_id, key = mint_api_key(TEST_SECRET, org=org, sub=sub, scopes="READ:PRODUCT WRITE:PRODUCT", **options)
    await record(db, key_id, org, sub, "READ:PRODUCT WRITE:PRODUCT")
    return key, sub


async def exchange(api: Api, key: str, client_id: str | None = None) -> Api:
    form = {"grant_type": GRANT, "assertion": key}
    if client_id is not None:
        form["client_id"] = client_id
    response = await api.client.post("/token", data=form)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]

    class Exchanged(Api):
        def token(self, **_overrides: Any) -> str:
            return str(token)

    return Exchanged(api.client, api.org)


async def client_uuids(db: Database, org: str) -> list[object]:
    """`clientUuid` of every event the organization's changes produced, oldest first."""

    async def read(conn: AsyncConnection) -> list[str]:
        rows = await conn.execute(
            select(outbox.c.payload).where(outbox.c.org_uuid == org).order_by(outbox.c.id)
        )
        return [str(r.payload) for r in rows]

    found = []
    for payload in await db.read(read):
        event = orjson.loads(payload)
        info = event.get("updated") or event.get("created") or event.get("changeInformation")
        found.append(info["clientUuid"])
    return found


async def test_a_key_carries_zettles_claims_beside_its_own(api: Api, db: Database) -> None:
    client = new_uuid()
    key, sub = await issued_key(db, api.org, client_id=client)
    header = jwt.get_unverified_header(key)
    assert all(isinstance(header[name], str) for name in ("kid", "typ", "alg"))
    claims = jwt.decode(key, options={"verify_signature": False})
    assert list(claims)[: len(ZETTLE_CLAIMS)] == ZETTLE_CLAIMS
    assert {"kid", "org", "token_use"} <= set(claims)
    assert isinstance(claims["iss"], str) and claims["aud"] == "API"
    assert isinstance(claims["exp"], int) and claims["exp"] > claims["iat"] > time.time() - 60
    assert claims["sub"] == sub and claims["renewed"] is False
    assert claims["scope"] == ["READ:PRODUCT", "WRITE:PRODUCT"]
    assert claims["user"] == {"userType": "USER", "uuid": sub, "orgUuid": api.org, "userRole": "OWNER"}
    assert claims["type"] == "user-assertion" and claims["client_id"] == client


async def test_a_key_gets_a_version_one_client_id_of_its_own(api: Api, db: Database) -> None:
    first, _ = await issued_key(db, api.org)
    second, _ = await issued_key(db, api.org)
    ids = [jwt.decode(k, options={"verify_signature": False})["client_id"] for k in (first, second)]
    assert ids[0] != ids[1] and all(uuid.UUID(i).version == 1 for i in ids)


async def test_the_token_acts_for_the_keys_client_whatever_client_id_is_sent(api: Api, db: Database) -> None:
    """Integrations send their own partner id and recognise their changes by the key's client id."""
    client = new_uuid()
    key, _ = await issued_key(db, api.org, client_id=client)
    for sent in (new_uuid(), None):
        exchanged = await exchange(api, key, sent)
        await exchanged.track(new_uuid())
    assert await client_uuids(db, api.org) == [client, client]


@pytest.mark.parametrize("client_id", ["my-integration", "123", "48804990-9c6d-4579-9c39-eae6d93e5f9"])
async def test_a_client_id_that_is_no_uuid_is_an_invalid_request(
    api: Api, db: Database, client_id: str
) -> None:
    key, _ = await issued_key(db, api.org)
    response = await api.client.post(
        "/token", data={"grant_type": GRANT, "client_id": client_id, "assertion": key}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "client_id must be a UUID"}


async def test_a_key_issued_before_zettles_claims_is_still_accepted(api: Api, db: Database) -> None:
    """The old form: scope a string, no exp, no client id. Its tokens act for the client id sent."""
    key_id, sub = secrets.token_hex(8), new_uuid()
    claims = {"kid": key_id, "org": api.org, "sub": sub, "scope": "READ:PRODUCT WRITE:PRODUCT"}
    old = jwt.encode(
        {**claims, "iat": 1_700_000_000, "token_use": "api_key"},
        TEST_SECRET,
        algorithm="HS256",
        headers={"kid": key_id},
    )
    await record(db, key_id, api.org, sub, "READ:PRODUCT WRITE:PRODUCT")
    client = new_uuid()
    exchanged = await exchange(api, old, client.upper())
    assert (await exchanged.get("/users/self")).json() == {"uuid": sub, "organizationUuid": api.org}
    await exchanged.track(new_uuid())
    await (await exchange(api, old)).track(new_uuid())
    assert await client_uuids(db, api.org) == [client, None]


async def test_an_expired_key_is_an_invalid_grant_that_says_so(api: Api, db: Database) -> None:
    key, _ = await issued_key(db, api.org, ttl_s=60, now_s=int(time.time()) - 3600)
    response = await api.client.post(
        "/token", data={"grant_type": GRANT, "client_id": new_uuid(), "assertion": key}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "the API key has expired"}


async def test_a_token_with_a_client_id_that_is_no_uuid_acts_for_no_client(api: Api, db: Database) -> None:
    """Tokens minted before client ids had to be UUIDs (the README used `my-integration`): events
    carry null rather than a clientUuid typed consumers refuse."""
    api.client_id = "my-integration"
    await api.track(new_uuid())
    assert await client_uuids(db, api.org) == [None]
