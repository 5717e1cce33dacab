"""Recorded purchases (the idempotency record of spec §9) and the Zettle receiver's signing keys."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.sql import upsert
from stockledger.store.tables import purchase_connections, purchases


async def stored_result(conn: AsyncConnection, org: str, purchase_uuid: str) -> dict[str, Any] | None:
    """The answer recorded for this purchase, or None when it was never recorded."""
    text = await conn.scalar(
        select(purchases.c.result).where(
            purchases.c.org_uuid == org, purchases.c.purchase_uuid == purchase_uuid
        )
    )
    if text is None:
        return None
    result: dict[str, Any] = orjson.loads(text)
    return result


async def insert(
    conn: AsyncConnection, org: str, purchase_uuid: str, channel: str, result: dict[str, Any], at_ms: int
) -> None:
    """Record the purchase; a second insert of the same UUID fails (the caller holds the org lock)."""
    await conn.execute(
        purchases.insert().values(
            org_uuid=org,
            purchase_uuid=purchase_uuid,
            channel=channel,
            result=orjson.dumps(result).decode(),
            created_ms=at_ms,
        )
    )


async def set_signing_key(conn: AsyncConnection, org: str, signing_key: str, at_ms: int) -> None:
    stmt = upsert(conn, purchase_connections).values(
        org_uuid=org, signing_key=signing_key, created_ms=at_ms, updated_ms=at_ms
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_uuid"], set_={"signing_key": signing_key, "updated_ms": at_ms}
    )
    await conn.execute(stmt)


async def signing_key(conn: AsyncConnection, org: str) -> str | None:
    value = await conn.scalar(
        select(purchase_connections.c.signing_key).where(purchase_connections.c.org_uuid == org)
    )
    return None if value is None else str(value)
