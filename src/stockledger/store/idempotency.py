"""Idempotency keys: claimed with the write they guard, then completed with the stored response."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.sql import upsert
from stockledger.store.tables import idempotency_keys as keys


@dataclass(frozen=True)
class StoredKey:
    fingerprint: str
    created_ms: int
    status: int | None  # None: claimed (the effect committed) but the response not stored yet
    content_type: str | None
    body: bytes | None


async def find(conn: AsyncConnection, org: str, key: str) -> StoredKey | None:
    row = (
        await conn.execute(
            select(
                keys.c.fingerprint, keys.c.created_ms, keys.c.status, keys.c.content_type, keys.c.body
            ).where(keys.c.org_uuid == org, keys.c.key == key)
        )
    ).first()
    if row is None:
        return None
    body = bytes(row[4]) if row[4] is not None else None
    return StoredKey(row[0], int(row[1]), None if row[2] is None else int(row[2]), row[3], body)


async def claim(conn: AsyncConnection, org: str, key: str, fingerprint: str, at_ms: int) -> bool:
    """Insert the key; False when it already exists (on PostgreSQL a concurrent claim waits for ours)."""
    stmt = (
        upsert(conn, keys)
        .values(org_uuid=org, key=key, fingerprint=fingerprint, created_ms=at_ms)
        .on_conflict_do_nothing(index_elements=["org_uuid", "key"])
        .returning(keys.c.key)
    )
    return (await conn.execute(stmt)).first() is not None


async def complete(
    conn: AsyncConnection, org: str, key: str, status: int, content_type: str | None, body: bytes
) -> None:
    await conn.execute(
        update(keys)
        .where(keys.c.org_uuid == org, keys.c.key == key)
        .values(status=status, content_type=content_type, body=body)
    )


async def forget(conn: AsyncConnection, org: str, key: str, older_than_ms: int) -> None:
    """Drop one expired key so it can be claimed afresh."""
    await conn.execute(
        delete(keys).where(keys.c.org_uuid == org, keys.c.key == key, keys.c.created_ms < older_than_ms)
    )


async def purge(conn: AsyncConnection, older_than_ms: int) -> int:
    """Delete every key created before the cut-off; returns how many."""
    result = await conn.execute(delete(keys).where(keys.c.created_ms < older_than_ms))
    return int(result.rowcount or 0)
