"""An organization's four system locations are created exactly once, even under concurrent first requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store.db import Database
from tests.conftest import Api, new_uuid
from tests.ledger import location_rows


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_clients(settings: Settings, db: Database) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two apps on fresh Database objects: no in-process `known_orgs` cache hides the race."""
    apps = [create_app(settings, db=Database(db.url)) for _ in range(2)]
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://t") for a in apps]
    yield clients
    for client, app in zip(clients, apps, strict=True):
        await client.aclose()
        await app.state.stockledger.db.dispose()


async def test_twenty_concurrent_first_requests_create_four_locations_once(
    fresh_clients: list[httpx.AsyncClient], db: Database
) -> None:
    org = new_uuid()
    apis = [Api(fresh_clients[i % 2], org) for i in range(20)]
    responses = await asyncio.gather(*(a.get("/organizations/self/locations") for a in apis))
    assert [r.status_code for r in responses] == [200] * 20
    answers = [r.json() for r in responses]
    assert all(answer == answers[0] for answer in answers)
    assert sorted(loc["type"] for loc in answers[0]) == ["BIN", "SOLD", "STORE", "SUPPLIER"]
    assert await location_rows(db, org) == 4
