"""Fixtures of the back-office page tests: accounts, API keys, a signed-in browser-like client."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.domain.accounts import Role
from stockledger.service import accounts, passwords
from stockledger.service.accounts import Account
from stockledger.store import apikeys
from stockledger.store.db import Database
from stockledger.tokens import DEFAULT_SCOPES, mint_api_key
from tests.conftest import TEST_SECRET, Api

PASSWORD = "correct horse battery staple"
# argon2id at the lowest cost the library allows: the page tests sign in hundreds of times, and the
# production parameters are pinned by tests/web/test_accounts.py.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(passwords, "HASHER", CHEAP_HASHER)
    yield


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def issue_key(
    db: Database, org: str, sub: str, scopes: str = DEFAULT_SCOPES, label: str | None = None
) -> tuple[str, str]:
    key_id, key = mint_api_key(TEST_SECRET, org=org, sub=sub, scopes=scopes)

    async def work(conn: AsyncConnection) -> None:
        await apikeys.insert(conn, key_id, org, sub, scopes, label)

    await db.write(work)
    return key_id, key


async def add_person(
    db: Database,
    org: str,
    role: Role = Role.OWNER,
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    must_change: bool = False,
) -> Account:
    """An account of `org` (the organization's first account is always an owner: one is added first
    when another role is asked for)."""
    if role != Role.OWNER and not await accounts.list_accounts(db, org):
        await add_person(db, org, Role.OWNER)
    return await accounts.create(
        db,
        org,
        email=email or f"{role.value}-{uuid.uuid4().hex[:12]}@example.com",
        name=name or f"{role.value.capitalize()} {uuid.uuid4().hex[:6]}",
        password=password,
        role=role,
        must_change_password=must_change,
    )


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, next_url: str = ""
) -> httpx.Response:
    form = await client.get("/ui/signin")
    assert form.status_code == 200
    data = {"csrf_token": csrf_of(form.text), "email": email, "password": password}
    if next_url:
        data["next"] = next_url
    return await client.post("/ui/signin", data=data)


async def sign_in_with_key(client: httpx.AsyncClient, key: str, next_url: str = "") -> httpx.Response:
    form = await client.get("/ui/signin")
    assert form.status_code == 200
    data = {"csrf_token": csrf_of(form.text), "api_key": key}
    if next_url:
        data["next"] = next_url
    return await client.post("/ui/signin", data=data)


@dataclass
class Ui:
    """A signed-in back-office session of a person of the `api` fixture's organization."""

    client: httpx.AsyncClient
    api: Api
    account: Account

    async def csrf(self, path: str = "/ui/stock") -> str:
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)


@pytest_asyncio.fixture(loop_scope="session")
async def ui(api: Api, db: Database) -> Ui:
    """The organization's owner, signed in."""
    account = await add_person(db, api.org, Role.OWNER, name="Olga Owner")
    response = await sign_in(api.client, account.email)
    assert response.status_code == 303, response.text
    return Ui(api.client, api, account)


@asynccontextmanager
async def ui_as(
    app: Any, api: Api, db: Database, role: Role
) -> AsyncIterator[tuple[httpx.AsyncClient, Account]]:
    """A browser (its own cookie jar) signed in as a new person of `role`."""
    account = await add_person(db, api.org, role)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as browser:
        response = await sign_in(browser, account.email)
        assert response.status_code == 303, response.text
        yield browser, account


@pytest.fixture(scope="session")
def key_app(settings: Settings, db: Database) -> Any:
    """The app with STOCKLEDGER_UI_API_KEY_SIGNIN on: the back office also takes an API key."""
    return create_app(settings.with_overrides(ui_api_key_signin=True), db=db)


@pytest_asyncio.fixture(loop_scope="session")
async def key_client(key_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=key_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as http:
        yield http


@pytest.fixture
def product_variant() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())
