"""Tracking state of products."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.sql import chunked, now_ms, upsert
from stockledger.store.tables import products

_TRACKED_AMONG = select(products.c.product_uuid).where(
    products.c.org_uuid == bindparam("org"),
    products.c.tracked.is_(True),
    products.c.product_uuid.in_(bindparam("wanted", expanding=True)),
)


async def tracked_among(conn: AsyncConnection, org: str, product_uuids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for part in chunked(sorted(set(product_uuids))):
        found.update((await conn.scalars(_TRACKED_AMONG, {"org": org, "wanted": list(part)})).all())
    return found


async def all_tracked(conn: AsyncConnection, org: str) -> list[str]:
    stmt = (
        select(products.c.product_uuid)
        .where(products.c.org_uuid == org, products.c.tracked.is_(True))
        .order_by(products.c.product_uuid)
    )
    return list((await conn.scalars(stmt)).all())


async def set_tracked(conn: AsyncConnection, org: str, product_uuid: str, tracked: bool) -> bool:
    """Set the tracking state; True when it changed."""
    current = await conn.scalar(
        select(products.c.tracked).where(products.c.org_uuid == org, products.c.product_uuid == product_uuid)
    )
    if current is not None and bool(current) == tracked:
        return False
    if current is None and not tracked:
        return False
    stmt = (
        upsert(conn, products)
        .values(org_uuid=org, product_uuid=product_uuid, tracked=tracked, updated_ms=now_ms())
        .on_conflict_do_update(
            index_elements=["org_uuid", "product_uuid"], set_={"tracked": tracked, "updated_ms": now_ms()}
        )
    )
    await conn.execute(stmt)
    return True


async def tracked_page(conn: AsyncConnection, org: str, *, after: str | None, limit: int) -> list[str]:
    """Up to `limit` tracked products by UUID, those after `after` (a keyset page)."""
    stmt = (
        select(products.c.product_uuid)
        .where(products.c.org_uuid == org, products.c.tracked.is_(True))
        .order_by(products.c.product_uuid)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(products.c.product_uuid > after)
    return list((await conn.scalars(stmt)).all())
