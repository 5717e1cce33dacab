"""An Idempotency-Key replay is an answer like any other: authentication, the organization in the
path, the route's scope and the rate limit are checked before a stored answer is replayed."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from stockledger.app import create_app
from stockledger.store.db import Database
from tests.api.test_idempotency import key_headers, movement_count, restock_body
from tests.conftest import Api, make_settings, new_uuid

INVENTORY = "/organizations/self/inventory"


async def _stored_put(api: Api, key: str) -> tuple[dict[str, object], httpx.Response]:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)
    first = await api.put(INVENTORY, json=body, headers=key_headers(key))
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    return body, first


async def test_a_token_without_the_routes_scope_gets_403_not_the_stored_answer(
    api: Api, db: Database
) -> None:
    body, first = await _stored_put(api, "scoped")
    for scopes in ("", "READ:PRODUCT", "READ:PURCHASE WRITE:PURCHASE"):
        same_org = Api(api.client, api.org, scopes=scopes)
        response = await same_org.put(INVENTORY, json=body, headers=key_headers("scoped"))
        assert response.status_code == 403, (scopes, response.text)
        assert response.json()["errorType"] == "FORBIDDEN"
        assert "idempotent-replayed" not in response.headers
        assert response.content != first.content
    again = await api.put(INVENTORY, json=body, headers=key_headers("scoped"))
    assert again.headers.get("idempotent-replayed") == "true" and again.content == first.content
    assert await movement_count(db, api.org) == 1


async def test_subscription_routes_count_against_the_rate_limit(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, rate_limit_per_s=0.001, rate_limit_burst=2)
    app = create_app(settings, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        api = Api(client, str(uuid.uuid4()))
        statuses = [(await api.get("/organizations/self/subscriptions")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


async def test_a_replay_under_another_organizations_path_is_refused(api: Api, other_api: Api) -> None:
    body, _first = await _stored_put(api, "paths")
    foreign = await api.put(
        f"/organizations/{other_api.org}/inventory", json=body, headers=key_headers("paths")
    )
    assert foreign.status_code == 403 and "idempotent-replayed" not in foreign.headers


async def test_a_replay_counts_against_the_rate_limit(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, rate_limit_per_s=0.001, rate_limit_burst=4)
    app = create_app(settings, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        api = Api(client, str(uuid.uuid4()))
        body, _first = await _stored_put(api, "limited")  # locations, track, PUT: three of four
        replayed = await api.put(INVENTORY, json=body, headers=key_headers("limited"))
        assert replayed.headers.get("idempotent-replayed") == "true"  # the fourth
        limited = await api.put(INVENTORY, json=body, headers=key_headers("limited"))
        assert limited.status_code == 429, limited.text
        assert limited.json()["errorType"] == "RATE_LIMITED"
        assert "idempotent-replayed" not in limited.headers


async def test_a_bad_key_from_an_unauthenticated_caller_is_401_first(api: Api) -> None:
    response = await api.client.put(INVENTORY, json={"changes": []}, headers=key_headers("x" * 300))
    assert response.status_code == 401
