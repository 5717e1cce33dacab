"""Helpers shared by the low-stock API tests."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import low_stock_levels, outbox
from tests.conftest import Api

UNKNOWN_LOCATION = "9a495c2a-5115-11ec-bf63-0242ac130002"


def base(location: str) -> str:
    return f"/custom-low-stock/locations/{location}"


def fetch(location: str) -> str:
    return f"/custom-low-stock/v2/locations/{location}"


async def put(api: Api, location: str, product: str, variant: str, **fields: Any) -> None:
    body = {"productUuid": product, "variantUuid": variant, **fields}
    response = await api.put(base(location), json=body)
    assert response.status_code == 204, response.text
    assert response.content == b""


async def configs(api: Api, location: str) -> list[dict[str, Any]]:
    response = await api.get(fetch(location))
    assert response.status_code == 200, response.text
    products: list[dict[str, Any]] = response.json()["customLowStockLevelsForProducts"]
    return products


async def stored_rows(db: Database, org: str) -> int:
    async def count(conn: AsyncConnection) -> int:
        stmt = select(func.count()).select_from(low_stock_levels).where(low_stock_levels.c.org_uuid == org)
        return int(await conn.scalar(stmt) or 0)

    return await db.read(count)


def view(location: str, org: str = "self") -> str:
    return f"/organizations/{org}/inventory/locations/{location}/low-stock"


async def low_stock_events(db: Database, org: str) -> list[dict[str, Any]]:
    async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
        stmt = (
            select(outbox.c.payload)
            .where(outbox.c.org_uuid == org, outbox.c.event_name == "InventoryLowStock")
            .order_by(outbox.c.id)
        )
        return [orjson.loads(p) for p in (await conn.scalars(stmt)).all()]

    return await db.read(read)


async def stock(api: Api, locs: dict[str, str], product: str, variant: str, units: Any) -> None:
    response = await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], units)
    assert response.status_code == 200, response.text


async def sell(api: Api, locs: dict[str, str], product: str, variant: str, units: Any) -> None:
    response = await api.move(product, variant, locs["STORE"], locs["SOLD"], units)
    assert response.status_code == 200, response.text
