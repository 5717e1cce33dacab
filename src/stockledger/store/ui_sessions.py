"""Back-office sessions: one row per signed-in browser, deleted on sign-out or after expiry."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.apikeys import ApiKeyRecord
from stockledger.store.tables import api_keys, ui_sessions


def session_hash(session_id: str) -> str:
    """What the table keeps of a session id (the cookie carries the id itself)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


async def insert_session(
    conn: AsyncConnection, session_id: str, org: str, key_id: str, now_ms: int, expires_ms: int
) -> None:
    await conn.execute(
        insert(ui_sessions).values(
            id=session_hash(session_id), org_uuid=org, key_id=key_id, created_ms=now_ms, expires_ms=expires_ms
        )
    )


async def active_key(
    conn: AsyncConnection, session_id: str, org: str, key_id: str, now_ms: int
) -> ApiKeyRecord | None:
    """The session's API key when the session exists, has not expired, and its key is the named one,
    of `org` and not revoked (one indexed read: the session row and the key row)."""
    row = (
        await conn.execute(
            select(api_keys)
            .join(ui_sessions, ui_sessions.c.key_id == api_keys.c.key_id)
            .where(
                ui_sessions.c.id == session_hash(session_id),
                ui_sessions.c.expires_ms > now_ms,
                ui_sessions.c.org_uuid == org,
                api_keys.c.key_id == key_id,
                api_keys.c.org_uuid == org,
                api_keys.c.revoked_ms.is_(None),
            )
        )
    ).first()
    return ApiKeyRecord(*row) if row else None


async def remove(conn: AsyncConnection, session_id: str) -> None:
    await conn.execute(delete(ui_sessions).where(ui_sessions.c.id == session_hash(session_id)))


async def purge_expired(conn: AsyncConnection, now_ms: int) -> int:
    result = await conn.execute(delete(ui_sessions).where(ui_sessions.c.expires_ms <= now_ms))
    return int(result.rowcount or 0)
