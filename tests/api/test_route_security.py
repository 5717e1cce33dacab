"""Generated over every route of the OpenAPI document: tenant isolation, scopes, expired tokens.

New routes are covered automatically; a route that is public by design must be listed here.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import metadata
from stockledger.tokens import mint_access_token
from tests.conftest import TEST_SECRET, Api, new_uuid

# Routes that do not take a bearer token, by design (spec §2).
PUBLIC_PREFIXES = (
    "/token",
    "/healthz",
    "/readyz",
    "/metrics",
    "/swagger",
    "/openapi.json",
    "/ui",
    "/webhooks/zettle",
)
# Writes by verb that are reads by meaning (spec §5: "a read, despite the verb").
READS_BY_POST = {"/organizations/{org}/inventory/products"}
WRITE_METHODS = {"post", "put", "delete", "patch"}
# Subscriptions are managed with the READ scope of their events (spec §7), so there the refusal is
# checked with a token that has no scope at all.
SUBSCRIPTIONS_PREFIX = "/organizations/{org}/subscriptions"


async def operations(api: Api) -> list[tuple[str, str]]:
    document = (await api.client.get("/openapi.json")).json()
    found = []
    for path, item in document["paths"].items():
        if path.startswith(PUBLIC_PREFIXES):
            continue
        for method in item:
            if method in {"get", "post", "put", "delete", "patch"}:
                found.append((method, path))
    assert found, "the OpenAPI document lists the routes"
    return found


def fill(path: str, values: dict[str, str]) -> str:
    """Fill `{param}` placeholders: known names from `values`, anything else a random UUID."""
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), new_uuid()), path)


async def org_checksum(db: Database, org: str) -> str:
    """A digest of every row of every table that belongs to the organization."""

    async def work(conn: AsyncConnection) -> str:
        digest = hashlib.sha256()
        for table in metadata.sorted_tables:
            column = table.c.get("org_uuid") if "org_uuid" in table.c else None
            if column is None and table.name == "organizations":
                column = table.c.uuid
            if column is None:
                continue
            rows = (await conn.execute(select(table).where(column == org))).all()
            digest.update(table.name.encode() + repr(sorted(repr(tuple(r)) for r in rows)).encode())
        return digest.hexdigest()

    return await db.read(work)


def leaks(response: Any, victim: dict[str, str]) -> bool:
    """Whether an answer carries organization A's data: a record of A's location or organization."""
    try:
        document = response.json()
    except ValueError:
        return victim["locationUuid"] in response.text and response.status_code < 400
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("organizationUuid") == victim["org"] or (
                item.get("locationUuid") == victim["locationUuid"] and "balance" in item
            ):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@pytest.fixture
async def victim(api: Api) -> dict[str, str]:
    """Organization A with a location, a tracked product and a balance."""
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 7)).status_code == 200
    return {
        "org": api.org,
        "locationUuid": locs["STORE"],
        "loc": locs["STORE"],
        "productUuid": product,
        "p": product,
        "variantUuid": variant,
        "v": variant,
        "uuid": new_uuid(),
    }


def body_for(victim: dict[str, str]) -> dict[str, Any]:
    """A body that names A's identifiers everywhere a route might look for them."""
    change = {
        "productUuid": victim["productUuid"],
        "variantUuid": victim["variantUuid"],
        "fromLocationUuid": victim["locationUuid"],
        "toLocationUuid": victim["locationUuid"],
        "change": 1,
    }
    return {
        "productUuid": victim["productUuid"],
        "productUuids": [victim["productUuid"]],
        "locationUuid": victim["locationUuid"],
        "changes": [change],
        "requests": [{"productUuid": victim["productUuid"], "variantUuid": victim["variantUuid"]}],
        "counts": [
            {"productUuid": victim["productUuid"], "variantUuid": victim["variantUuid"], "balance": 1}
        ],
    }


async def test_every_route_with_another_organizations_token_leaks_nothing_and_writes_nothing(
    api: Api, other_api: Api, db: Database, victim: dict[str, str]
) -> None:
    before = await org_checksum(db, api.org)
    for method, path in await operations(api):
        for org_value in (api.org, "self"):
            url = fill(path, {**victim, "org": org_value})
            kwargs: dict[str, Any] = {"json": body_for(victim)} if method in WRITE_METHODS else {}
            response = await other_api.request(method.upper(), url, **kwargs)
            assert response.status_code < 500, (method, url, response.text)
            if "{org}" in path and org_value == api.org:
                assert response.status_code == 403, (method, url, response.status_code)
            assert not leaks(response, victim), (method, url, response.text)
    assert await org_checksum(db, api.org) == before, "organization A's data changed"


async def test_every_write_route_refuses_a_read_only_token(api: Api, victim: dict[str, str]) -> None:
    reader = Api(api.client, api.org, scopes="READ:PRODUCT READ:PURCHASE")
    scopeless = Api(api.client, api.org, scopes="")
    checked = 0
    for method, path in await operations(api):
        if method not in WRITE_METHODS or path in READS_BY_POST:
            continue
        caller = scopeless if path.startswith(SUBSCRIPTIONS_PREFIX) else reader
        response = await caller.request(method.upper(), fill(path, victim), json=body_for(victim))
        assert response.status_code == 403, (method, path, response.status_code, response.text)
        assert response.json()["errorType"] == "FORBIDDEN"
        checked += 1
    assert checked >= 3


async def test_every_route_refuses_an_expired_token(api: Api, victim: dict[str, str]) -> None:
    expired = mint_access_token(TEST_SECRET, org=api.org, now_s=int(time.time()) - 3 * 3600, ttl_s=3600)
    for method, path in await operations(api):
        response = await api.client.request(
            method.upper(),
            fill(path, victim),
            headers={"Authorization": f"Bearer {expired}"},
            json=body_for(victim) if method in WRITE_METHODS else None,
        )
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_tokens_signed_with_alg_none_are_refused(api: Api) -> None:
    import base64
    import json

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {
        "sub": str(uuid.uuid4()),
        "org": api.org,
        "scope": "READ:PRODUCT",
        "exp": int(time.time()) + 600,
    }
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    response = await api.client.get("/inventory", headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401
