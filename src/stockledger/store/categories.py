"""SQL of the Product Library's categories (table `product_categories`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.products import CategoryRecord
from stockledger.store.tables import product_categories as pc


def _record(row: Row[Any]) -> CategoryRecord:
    return CategoryRecord(
        row.uuid, row.name, row.etag, int(row.created_ms), int(row.updated_ms), row.updated_by
    )


async def get(conn: AsyncConnection, org: str, category_uuid: str) -> CategoryRecord | None:
    row = (await conn.execute(select(pc).where(pc.c.org_uuid == org, pc.c.uuid == category_uuid))).first()
    return None if row is None else _record(row)


async def list_all(conn: AsyncConnection, org: str) -> list[CategoryRecord]:
    """The organization's categories, oldest first (then by UUID)."""
    stmt = select(pc).where(pc.c.org_uuid == org).order_by(pc.c.created_ms, pc.c.uuid)
    return [_record(row) for row in (await conn.execute(stmt)).all()]


async def insert(conn: AsyncConnection, org: str, record: CategoryRecord) -> None:
    await conn.execute(
        pc.insert().values(
            org_uuid=org,
            uuid=record.uuid,
            name=record.name,
            etag=record.etag,
            created_ms=record.created_ms,
            updated_ms=record.updated_ms,
            updated_by=record.updated_by,
        )
    )


async def rename(
    conn: AsyncConnection, org: str, category_uuid: str, name: str, etag: str, at_ms: int, by: str | None
) -> None:
    await conn.execute(
        update(pc)
        .where(pc.c.org_uuid == org, pc.c.uuid == category_uuid)
        .values(name=name, etag=etag, updated_ms=at_ms, updated_by=by)
    )


async def remove(conn: AsyncConnection, org: str, category_uuid: str) -> None:
    await conn.execute(delete(pc).where(pc.c.org_uuid == org, pc.c.uuid == category_uuid))
