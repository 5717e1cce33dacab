"""Records of issued API keys: only recorded, unrevoked keys are accepted by POST /token."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.sql import now_ms
from stockledger.store.tables import api_keys


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    org_uuid: str
    sub: str
    scopes: str
    created_ms: int
    revoked_ms: int | None


async def insert(conn: AsyncConnection, key_id: str, org: str, sub: str, scopes: str) -> None:
    await conn.execute(
        api_keys.insert().values(key_id=key_id, org_uuid=org, sub=sub, scopes=scopes, created_ms=now_ms())
    )


async def get(conn: AsyncConnection, key_id: str) -> ApiKeyRecord | None:
    row = (await conn.execute(select(api_keys).where(api_keys.c.key_id == key_id))).first()
    return ApiKeyRecord(*row) if row else None


async def revoke(conn: AsyncConnection, key_id: str) -> bool:
    result = await conn.execute(
        update(api_keys)
        .where(api_keys.c.key_id == key_id, api_keys.c.revoked_ms.is_(None))
        .values(revoked_ms=now_ms())
    )
    return bool(result.rowcount)


async def list_all(conn: AsyncConnection, org: str | None = None) -> list[ApiKeyRecord]:
    stmt = select(api_keys).order_by(api_keys.c.created_ms)
    if org:
        stmt = stmt.where(api_keys.c.org_uuid == org)
    return [ApiKeyRecord(*row) for row in (await conn.execute(stmt)).all()]
