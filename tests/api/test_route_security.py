"""Generated over every route of the OpenAPI document: tenant isolation, scopes, expired tokens.

New routes are covered automatically; a route that is public by design must be listed here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import metadata, outbox
from stockledger.tokens import DEFAULT_SCOPES, mint_access_token
from tests.conftest import TEST_SECRET, Api, new_uuid
from tests.webhook_receiver import running_receiver

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
    "/productimage",  # image URLs, fetched like any image on the web
)
# Writes by verb that are reads by meaning (spec §5: "a read, despite the verb").
READS_BY_POST = {
    "/organizations/{org}/inventory/products",
    "/v3/products/status",
    "/v3/stock/{inventoryUuid}/products",
}
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
        return response.status_code < 400 and any(
            victim[k] in response.text for k in ("locationUuid", "marker", "signingKey")
        )
    if victim["marker"] in response.text or victim["signingKey"] in response.text:
        return True  # A's catalog name or A's subscription
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if (
                item.get("organizationUuid") == victim["org"]
                or (item.get("locationUuid") == victim["locationUuid"] and "balance" in item)
                or item.get("inventoryUuid") == victim["locationUuid"]  # Inventory v3
            ):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@pytest.fixture
async def victim(api: Api, db: Database) -> dict[str, str]:
    """Organization A with data behind every family of routes: a balance, a library product (by the
    catalog) and category, a low-stock rule, settings, a webhook subscription and an event in its
    outbox."""
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 7)).status_code == 200
    marker = f"victim-{new_uuid()}"
    catalog = {"name": marker, "variants": [{"uuid": variant, "name": marker, "sku": marker}]}
    assert (await api.put(f"/organizations/self/catalog/products/{product}", json=catalog)).status_code == 200
    category = {"categories": [{"uuid": new_uuid(), "name": marker}]}  # the library's other table
    assert (await api.post("/organizations/self/categories/v2", json=category)).status_code == 201
    rule = {"productUuid": product, "variantUuid": variant, "lowStockLevel": "3", "lowStockAlert": True}
    assert (await api.put(f"/custom-low-stock/locations/{locs['STORE']}", json=rule)).status_code < 300
    settings = {"allowNegativeStock": False}
    assert (await api.put("/organizations/self/settings", json=settings)).status_code == 200
    purchase_uuid = new_uuid()
    line = {"productUuid": product, "variantUuid": variant, "quantity": 1, "name": marker}
    purchase = {"purchaseUuid": purchase_uuid, "products": [line]}
    assert (await api.post("/organizations/self/purchases", json=purchase)).status_code == 200
    image = {"imageFormat": "JPEG", "imageUrl": f"https://shop.example/{marker}.jpg"}
    assert (await api.post("/v2/images/organizations/self/products", json=image)).status_code == 200
    async with running_receiver() as receiver:
        created = await api.post(
            "/organizations/self/subscriptions",
            json={
                "uuid": new_uuid(),
                "transportName": "WEBHOOK",
                "eventNames": [],
                "destination": receiver.url,
                "contactEmail": "a@example.com",
            },
        )
    assert created.status_code == 200, created.text

    async def last_message(conn: AsyncConnection) -> str:
        row = await conn.execute(
            select(outbox.c.message_uuid).where(outbox.c.org_uuid == api.org).order_by(outbox.c.id.desc())
        )
        return str(row.scalars().first())

    return {
        "org": api.org,
        "locationUuid": locs["STORE"],
        "inventoryUuid": locs["STORE"],
        "loc": locs["STORE"],
        "productUuid": product,
        "p": product,
        "variantUuid": variant,
        "v": variant,
        "uuid": created.json()["uuid"],
        "messageUuid": await db.read(last_message),
        "signingKey": created.json()["signingKey"],
        "marker": marker,
        "purchaseUuid": purchase_uuid,
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


def unsigned_token(org: str) -> str:
    """A token with `alg: none` and no signature, claiming organization `org`."""

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"sub": str(uuid.uuid4()), "org": org, "scope": DEFAULT_SCOPES, "exp": int(time.time()) + 600}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


async def test_every_route_refuses_expired_unsigned_and_foreign_tokens(
    api: Api, victim: dict[str, str], db: Database
) -> None:
    before = await org_checksum(db, api.org)
    valid = mint_access_token(TEST_SECRET, org=api.org)
    header, _claims, sig = valid.split(".")
    other_org_claims = mint_access_token(TEST_SECRET, org=new_uuid()).split(".")[1]
    bad_tokens = {
        "expired": mint_access_token(TEST_SECRET, org=api.org, now_s=int(time.time()) - 3 * 3600, ttl_s=3600),
        "alg none": unsigned_token(api.org),
        "another secret": mint_access_token("another-secret-" + "x" * 40, org=api.org),
        "claims swapped": f"{header}.{other_org_claims}.{sig}",
    }
    for method, path in await operations(api):
        for kind, token in bad_tokens.items():
            response = await api.client.request(
                method.upper(),
                fill(path, victim),
                headers={"Authorization": f"Bearer {token}"},
                json=body_for(victim) if method in WRITE_METHODS else None,
            )
            assert response.status_code == 401, (kind, method, path, response.status_code)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            expected = "ACCESS_TOKEN_EXPIRED" if kind == "expired" else "UNAUTHENTICATED"
            assert response.json()["errorType"] == expected, (kind, method, path)
    assert await org_checksum(db, api.org) == before


async def test_the_generated_checks_reach_every_family_of_routes(api: Api) -> None:
    covered = {path for _method, path in await operations(api)}
    families = [
        "/organizations/{org}/inventory",
        "/organizations/{org}/v2/inventory/bulk",
        "/organizations/{org}/inventory/movements",  # history
        "/organizations/{org}/inventory/counts",
        "/organizations/{org}/locations/{locationUuid}",  # stores
        "/organizations/{org}/settings",
        "/organizations/{org}/purchases",
        "/organizations/{org}/catalog/products/{productUuid}",
        "/organizations/{org}/products",
        "/organizations/{org}/products/v2/{productUuid}",
        "/organizations/{org}/categories/v2/{uuid}",
        "/organizations/{org}/subscriptions",
        "/organizations/{org}/subscriptions/{uuid}/deliveries/{messageUuid}/redeliver",
        "/custom-low-stock/locations/{locationUuid}",
        "/organizations/{org}/inventory/locations/{locationUuid}/low-stock",
        "/inventory",
        "/v3/inventories/{inventoryUuid}",
        "/v3/products/status",
        "/v3/custom-low-stock",
        "/purchases/v2",
        "/purchase/v2/{purchaseUuid}",
        "/v2/images/organizations/{org}/products",
        "/v2/images/organizations/{org}/products/bulk",
        "/v1/taxes",
        "/v1/taxes/settings",
    ]
    assert [f for f in families if f not in covered] == []
    document = (await api.client.get("/openapi.json")).json()
    public = sorted(p for p in document["paths"] if p not in covered)
    assert public == [
        "/healthz",
        "/metrics",
        "/productimage/{size}/{lookupKey}",
        "/readyz",
        "/token",
        "/webhooks/zettle/{org}",
    ], "a route without a bearer token must be public by design (spec §2)"
