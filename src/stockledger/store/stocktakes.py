"""Stocktake uploads kept between their preview and their application; SKU lookups for the files."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.tables import catalog_products, catalog_variants, stocktakes

BATCH = 500  # SKUs per IN list


@dataclass(frozen=True)
class StoredStocktake:
    uuid: str
    location_uuid: str
    filename: str
    row_count: int
    rows: list[dict[str, Any]]
    created_ms: int
    applied_ms: int | None


def _pack(rows: list[dict[str, Any]]) -> bytes:
    return zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 6)


def _unpack(body: bytes) -> list[dict[str, Any]]:
    value = json.loads(zlib.decompress(body))
    assert isinstance(value, list)
    return value


async def insert(
    conn: AsyncConnection,
    org: str,
    uuid: str,
    location_uuid: str,
    filename: str,
    rows: list[dict[str, Any]],
    now_ms: int,
    keep_ms: int,
) -> None:
    """Store an upload; uploads older than `keep_ms` (applied or not) are removed on the way."""
    await conn.execute(delete(stocktakes).where(stocktakes.c.created_ms < now_ms - keep_ms))
    await conn.execute(
        stocktakes.insert().values(
            org_uuid=org,
            uuid=uuid,
            location_uuid=location_uuid,
            filename=filename[:255],
            row_count=len(rows),
            body=_pack(rows),
            created_ms=now_ms,
            applied_ms=None,
        )
    )


async def get(conn: AsyncConnection, org: str, uuid: str) -> StoredStocktake | None:
    row = (
        await conn.execute(select(stocktakes).where(stocktakes.c.org_uuid == org, stocktakes.c.uuid == uuid))
    ).first()
    if row is None:
        return None
    return StoredStocktake(
        row.uuid,
        row.location_uuid,
        row.filename,
        int(row.row_count),
        _unpack(row.body),
        int(row.created_ms),
        None if row.applied_ms is None else int(row.applied_ms),
    )


async def update_rows(conn: AsyncConnection, org: str, uuid: str, rows: list[dict[str, Any]]) -> None:
    await conn.execute(
        update(stocktakes)
        .where(stocktakes.c.org_uuid == org, stocktakes.c.uuid == uuid)
        .values(body=_pack(rows))
    )


async def mark_applied(conn: AsyncConnection, org: str, uuid: str, now_ms: int) -> bool:
    """Only once: False when it was already applied (a second click, a replayed form)."""
    result = await conn.execute(
        update(stocktakes)
        .where(stocktakes.c.org_uuid == org, stocktakes.c.uuid == uuid, stocktakes.c.applied_ms.is_(None))
        .values(applied_ms=now_ms)
    )
    return bool(result.rowcount)


async def variants_by_sku(
    conn: AsyncConnection, org: str, skus: set[str]
) -> dict[str, list[tuple[str, str]]]:
    """SKU → the (product, variant) pairs of the catalog carrying it (more than one = ambiguous)."""
    found: dict[str, list[tuple[str, str]]] = {}
    wanted = sorted(skus)
    cv = catalog_variants
    for start in range(0, len(wanted), BATCH):
        stmt = select(cv.c.sku, cv.c.product_uuid, cv.c.variant_uuid).where(
            and_(cv.c.org_uuid == org, cv.c.sku.in_(wanted[start : start + BATCH]))
        )
        for sku, product, variant in (await conn.execute(stmt)).all():
            found.setdefault(sku, []).append((product, variant))
    return found


async def names_of(
    conn: AsyncConnection, org: str, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str | None, str | None, str | None]]:
    """(product, variant) → (product name, variant name, SKU) for the keys the catalog knows."""
    cv, cp = catalog_variants, catalog_products
    wanted = set(keys)
    found: dict[tuple[str, str], tuple[str | None, str | None, str | None]] = {}
    products = sorted({p for p, _ in wanted})
    for start in range(0, len(products), BATCH):
        stmt = (
            select(cv.c.product_uuid, cv.c.variant_uuid, cp.c.name, cv.c.name, cv.c.sku)
            .select_from(
                cv.outerjoin(cp, and_(cp.c.org_uuid == cv.c.org_uuid, cp.c.product_uuid == cv.c.product_uuid))
            )
            .where(cv.c.org_uuid == org, cv.c.product_uuid.in_(products[start : start + BATCH]))
        )
        for p, v, pname, vname, sku in (await conn.execute(stmt)).all():
            if (p, v) in wanted:
                found[(p, v)] = (pname, vname, sku)
    return found
