"""Helpers of the purchase tests: the fixture documents and direct looks at the ledger and the outbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import movements, outbox, purchases
from tests.conftest import Api

FIXTURE_LINES = [
    line
    for line in (Path(__file__).parents[1] / "fixtures" / "purchase-documents.jsonl").read_text().splitlines()
    if line.strip()
]
SALE, WEIGHED, REFUND = (json.loads(line) for line in FIXTURE_LINES)

TEE = "4a98a670-7c2e-11eb-bb38-e398536ff6aa"
TEE_S, TEE_M = "4a98a671-7c2e-11eb-bb38-e398536ff6aa", "4a98a672-7c2e-11eb-bb38-e398536ff6aa"
BEANS, BEANS_KG = "ffa4e654-987c-11eb-bd32-b9ba7d636d99", "018ff152-987d-11eb-8147-faacf6e11cc8"
WRAP = "9c1d2e3f-987c-11eb-bd32-b9ba7d636d99"
CASHIER = "7a1abbf4-b5e2-4c70-8b21-f4ec5b00c463"


async def balances_of(api: Api, kind: str) -> dict[str, str]:
    """variantUuid → balance in the location of that type."""
    response = await api.get(f"/organizations/self/inventory/locations?type={kind}")
    assert response.status_code == 200, response.text
    return {v["variantUuid"]: v["balance"] for v in response.json()["variants"]}


async def ledger(db: Database, org: str) -> list[dict[str, Any]]:
    async def work(conn: AsyncConnection) -> list[dict[str, Any]]:
        stmt = select(movements).where(movements.c.org_uuid == org).order_by(movements.c.seq)
        return [dict(row._mapping) for row in (await conn.execute(stmt)).all()]

    return await db.read(work)


async def events(db: Database, org: str) -> list[tuple[str, Any]]:
    """(eventName, decoded payload) of the organization's outbox rows, in order."""

    async def work(conn: AsyncConnection) -> list[tuple[str, Any]]:
        stmt = select(outbox.c.event_name, outbox.c.payload).where(outbox.c.org_uuid == org)
        rows = (await conn.execute(stmt.order_by(outbox.c.id))).all()
        return [(name, json.loads(payload)) for name, payload in rows]

    return await db.read(work)


async def recorded_purchases(db: Database, org: str) -> list[tuple[str, str]]:
    async def work(conn: AsyncConnection) -> list[tuple[str, str]]:
        stmt = select(purchases.c.purchase_uuid, purchases.c.channel).where(purchases.c.org_uuid == org)
        return [(row[0], row[1]) for row in (await conn.execute(stmt)).all()]

    return await db.read(work)


async def stock(api: Api, *variants: tuple[str, str, str]) -> None:
    """Track the products and bring each (product, variant) to the given STORE balance."""
    locs = await api.locations()
    for product, variant, quantity in variants:
        await api.track(product)
        response = await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], quantity)
        assert response.status_code == 200, response.text
