"""Helpers of the Product Library tests: request bodies, creating products, and looks at the outbox
and the library's tables (for "nothing was written" checks)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import catalog_products, catalog_variants, outbox, product_categories
from tests.conftest import Api, new_uuid

PRODUCTS = "/organizations/self/products"
PRODUCT_EVENTS = ("ProductCreated", "ProductUpdated", "ProductDeleted")


def variant_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uuid": new_uuid(),
        "name": "Small",
        "description": "a small one",
        "sku": "TEE-S",
        "barcode": "7312345678901",
        "unitName": "pcs",
        "price": {"amount": 19900, "currencyId": "SEK"},
        "costPrice": {"amount": 9900, "currencyId": "SEK"},
        "vatPercentage": "25",
        "options": [{"name": "Size", "value": "S"}],
        "presentation": {
            "imageUrl": "https://img.example/s.png",
            "backgroundColor": "#fff",
            "textColor": "#000",
        },
    }
    body.update(overrides)
    return body


def product_body(**overrides: Any) -> dict[str, Any]:
    """A create body using every member of §2.2."""
    body: dict[str, Any] = {
        "uuid": new_uuid(),
        "name": "T-shirt",
        "description": "Organic cotton",
        "categories": ["Clothes"],
        "category": {"uuid": new_uuid(), "name": "Clothes"},
        "imageLookupKeys": ["0SFqIEwSEeWQb_kt6ixqNQ-10TukFTMEaekExOP02bdsw.jpeg"],
        "presentation": {"imageUrl": "https://img.example/t.png", "backgroundColor": None, "textColor": None},
        "variants": [
            variant_body(),
            variant_body(name="Medium", sku="TEE-M", barcode=None, options=[{"name": "Size", "value": "M"}]),
        ],
        "variantOptionDefinitions": {
            "definitions": [
                {"name": "Size", "properties": [{"value": "S", "imageUrl": None}, {"value": "M"}]}
            ]
        },
        "externalReference": "ID:42",
        "unitName": "pcs",
        "vatPercentage": 25,
        "taxExempt": False,
        "taxRates": [],
        "taxCode": None,
        "online": {"status": "ACTIVE", "description": "Soft", "shipping": {"weightInGrams": 200}},
        "metadata": {"inPos": True, "source": {"name": "SHOPWARE", "external": True}},
    }
    body.update(overrides)
    return body


def simple_body(**overrides: Any) -> dict[str, Any]:
    """The least a create needs, with one priced variant."""
    body: dict[str, Any] = {
        "uuid": new_uuid(),
        "name": "Mug",
        "variants": [{"uuid": new_uuid(), "price": {"amount": 5000, "currencyId": "SEK"}}],
    }
    body.update(overrides)
    return body


async def create(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """Create and return the entity (via returnEntity)."""
    response = await api.post(PRODUCTS, params={"returnEntity": "true"}, json=body)
    assert response.status_code == 201, response.text
    entity: dict[str, Any] = response.json()
    return entity


async def product_events(db: Database, org: str) -> list[tuple[str, dict[str, Any]]]:
    """(eventName, decoded payload) of the organization's product events, in order."""

    async def work(conn: AsyncConnection) -> list[tuple[str, dict[str, Any]]]:
        stmt = (
            select(outbox.c.event_name, outbox.c.payload)
            .where(outbox.c.org_uuid == org, outbox.c.event_name.in_(PRODUCT_EVENTS))
            .order_by(outbox.c.id)
        )
        return [(name, json.loads(payload)) for name, payload in (await conn.execute(stmt)).all()]

    return await db.read(work)


async def library_digest(db: Database, org: str) -> str:
    """A digest of the organization's library rows and outbox: equal before and after = nothing written."""

    async def work(conn: AsyncConnection) -> str:
        digest = hashlib.sha256()
        for table in (catalog_products, catalog_variants, product_categories, outbox):
            rows = (await conn.execute(select(table).where(table.c.org_uuid == org))).all()
            digest.update(repr(sorted(repr(tuple(r)) for r in rows)).encode())
        return digest.hexdigest()

    return await db.read(work)


def has_empty_object(value: Any) -> bool:
    """Whether `{}` appears anywhere in the document (clients' hydrators choke on it, §1.4)."""
    if isinstance(value, dict):
        return not value or any(has_empty_object(v) for v in value.values())
    if isinstance(value, list):
        return any(has_empty_object(v) for v in value)
    return False
