"""Revoking an API key ends its access tokens at once, in every server process: each request with a
token exchanged for a key reads the key's state from the database. Tokens minted without a key
(`stockledger token`) are unaffected."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import jwt

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store import apikeys
from stockledger.store.db import Database
from stockledger.tokens import mint_access_token, mint_api_key
from tests.api.test_auth import GRANT, assert_unauthenticated, create_key, invoke
from tests.conftest import TEST_SECRET, Api, make_settings, new_uuid
from tests.server import running


async def exchange(client: httpx.AsyncClient, key: str) -> dict[str, str]:
    response = await client.post("/token", data={"grant_type": GRANT, "assertion": key})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def recorded_key(db: Database, org: str, scopes: str = "READ:PRODUCT WRITE:PRODUCT") -> tuple[str, str]:
    sub = new_uuid()
    key_id, key = mint_api_key(TEST_SECRET, org=org, sub=sub, scopes=scopes)
    await db.write(lambda conn: apikeys.insert(conn, key_id, org, sub, scopes))
    return key_id, key


async def test_a_revoked_keys_access_token_is_refused_from_the_next_request(api: Api, db: Database) -> None:
    key_id, key = await recorded_key(db, api.org)
    headers = await exchange(api.client, key)
    assert (
        jwt.decode(headers["Authorization"][7:], options={"verify_signature": False})["api_key_id"] == key_id
    )
    for _ in range(2):  # verified once, then remembered by the verifier
        assert (await api.client.get("/inventory", headers=headers)).status_code == 200
    assert await db.write(lambda conn: apikeys.revoke(conn, key_id))
    for method, path in [
        ("GET", "/inventory"),
        ("PUT", "/organizations/self/inventory"),
        ("GET", "/users/self"),
    ]:
        assert_unauthenticated(await api.client.request(method, path, headers=headers, json={"changes": []}))
    # A key-less token of the same organization still works.
    assert (await api.get("/inventory")).status_code == 200


async def test_every_server_instance_refuses_at_once(
    api: Api, db: Database, database_url: str, tmp_path: Path
) -> None:
    """Two apps with their own connection pools and verifier caches, as two server processes have."""
    key_id, key = await recorded_key(db, api.org)
    headers = await exchange(api.client, key)
    other_db = Database(Settings(database_url=database_url).effective_database_url(), pool_size=2)
    other_app = create_app(make_settings(database_url, tmp_path), db=other_db)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other_app), base_url="http://o"
        ) as other:
            for client in (api.client, other):
                assert (await client.get("/inventory", headers=headers)).status_code == 200
            common = ["--database-url", database_url, "--data-dir", str(tmp_path)]
            await asyncio.to_thread(invoke, ["apikey", "revoke", key_id, *common])
            for client in (api.client, other):
                assert_unauthenticated(await client.get("/inventory", headers=headers))
    finally:
        await other_db.dispose()


async def test_a_token_naming_an_unknown_or_foreign_key_is_refused(
    api: Api, other_api: Api, db: Database
) -> None:
    foreign_key_id, _ = await recorded_key(db, other_api.org)
    for key_id in ("never-issued", foreign_key_id):
        token = mint_access_token(TEST_SECRET, org=api.org, key_id=key_id)
        assert_unauthenticated(
            await api.client.get("/inventory", headers={"Authorization": f"Bearer {token}"})
        )


async def test_revocation_reaches_separate_server_processes(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    common = ["--database-url", database_url, "--data-dir", str(tmp_path)]
    key_id, key = await create_key(api.org, "READ:PRODUCT", common)

    def scenario() -> None:
        with running(database_url, tmp_path / "a") as first, running(database_url, tmp_path / "b") as second:
            urls = [first.base_url, second.base_url]
            form = {"grant_type": GRANT, "assertion": key}
            token = httpx.post(f"{urls[0]}/token", data=form, timeout=10).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for url in urls:
                assert httpx.get(f"{url}/inventory", headers=headers, timeout=10).status_code == 200
            invoke(["apikey", "revoke", key_id, *common])
            for url in urls:
                assert httpx.get(f"{url}/inventory", headers=headers, timeout=10).status_code == 401

    await asyncio.to_thread(scenario)


async def test_a_token_with_a_malformed_key_claim_is_refused(api: Api) -> None:
    import time

    now = int(time.time())
    for bad in (123, "", ["k"]):
        claims = {"sub": api.sub, "org": api.org, "exp": now + 600, "token_use": "access", "api_key_id": bad}
        token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
        assert_unauthenticated(
            await api.client.get("/inventory", headers={"Authorization": f"Bearer {token}"})
        )
