"""Fixtures of the back-office page tests: an API key, a signed-in browser-like client."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store import apikeys
from stockledger.store.db import Database
from stockledger.tokens import DEFAULT_SCOPES, mint_api_key
from tests.conftest import TEST_SECRET, Api

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def issue_key(db: Database, org: str, sub: str, scopes: str = DEFAULT_SCOPES) -> tuple[str, str]:
    key_id, key = mint_api_key(TEST_SECRET, org=org, sub=sub, scopes=scopes)

    async def work(conn: AsyncConnection) -> None:
        await apikeys.insert(conn, key_id, org, sub, scopes)

    await db.write(work)
    return key_id, key


async def sign_in(client: httpx.AsyncClient, key: str, next_url: str = "") -> httpx.Response:
    form = await client.get("/ui/signin")
    assert form.status_code == 200
    data = {"csrf_token": csrf_of(form.text), "api_key": key}
    if next_url:
        data["next"] = next_url
    return await client.post("/ui/signin", data=data)


@dataclass
class Ui:
    """A signed-in back-office session for the `api` fixture's organization."""

    client: httpx.AsyncClient
    api: Api
    key_id: str
    key: str

    async def csrf(self, path: str = "/ui/stock") -> str:
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)


@pytest_asyncio.fixture(loop_scope="session")
async def ui(api: Api, db: Database) -> Ui:
    key_id, key = await issue_key(db, api.org, api.sub)
    response = await sign_in(api.client, key)
    assert response.status_code == 303, response.text
    return Ui(api.client, api, key_id, key)


@pytest.fixture
def product_variant() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())
