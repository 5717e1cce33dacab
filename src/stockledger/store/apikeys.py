"""Records of issued API keys: only recorded, unrevoked keys are accepted by POST /token."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.side_reads import SideReader
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
    label: str | None = None


async def insert(
    conn: AsyncConnection, key_id: str, org: str, sub: str, scopes: str, label: str | None = None
) -> None:
    await conn.execute(
        api_keys.insert().values(
            key_id=key_id, org_uuid=org, sub=sub, scopes=scopes, created_ms=now_ms(), label=label
        )
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


async def of_subjects(conn: AsyncConnection, org: str, subs: set[str]) -> list[ApiKeyRecord]:
    """The organization's keys (revoked ones too) that act as one of `subs`, oldest first."""
    if not subs:
        return []
    stmt = (
        select(api_keys)
        .where(api_keys.c.org_uuid == org, api_keys.c.sub.in_(sorted(subs)))
        .order_by(api_keys.c.created_ms, api_keys.c.key_id)
    )
    return [ApiKeyRecord(*row) for row in (await conn.execute(stmt)).all()]


async def states(reader: SideReader, key_ids: list[str]) -> dict[str, tuple[str, int | None]]:
    """key id → (organization, revoked_ms) of the recorded keys among `key_ids`, read as committed
    right now. Driver-level SQL on the side reader: one indexed lookup (the primary key), the cheapest
    read there is, since every request with a key's access token makes it."""
    if not key_ids:
        return {}
    if reader.is_sqlite:
        marks = ", ".join("?" for _ in key_ids)
        sql = f"SELECT key_id, org_uuid, revoked_ms FROM api_keys WHERE key_id IN ({marks})"  # noqa: S608 - placeholders only
        rows = await reader.fetch(sql, key_ids)
    else:
        sql = "SELECT key_id, org_uuid, revoked_ms FROM api_keys WHERE key_id = ANY($1::varchar[])"
        rows = await reader.fetch(sql, [key_ids])
    return {
        str(key_id): (str(org), None if revoked is None else int(revoked)) for key_id, org, revoked in rows
    }
