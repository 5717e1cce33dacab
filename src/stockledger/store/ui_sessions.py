"""Back-office sessions: one row per signed-in browser, deleted on sign-out or after expiry.

A session belongs to a person's account (`user_uuid`) or, where the setting allows it, to an API key
(`key_id`); every request reads the row together with the account or key, so disabling the one or
revoking the other ends its sessions at once."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.apikeys import ApiKeyRecord
from stockledger.store.tables import api_keys, ui_sessions, users
from stockledger.store.users import COLUMNS as USER_COLUMNS
from stockledger.store.users import UserRecord, record_of


def session_hash(session_id: str) -> str:
    """What the table keeps of a session id (the cookie carries the id itself)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


async def insert_session(
    conn: AsyncConnection,
    session_id: str,
    org: str,
    now_ms: int,
    expires_ms: int,
    *,
    key_id: str | None = None,
    user_uuid: str | None = None,
) -> None:
    assert (key_id is None) != (user_uuid is None), "a session belongs to a key or to an account"
    await conn.execute(
        insert(ui_sessions).values(
            id=session_hash(session_id),
            org_uuid=org,
            key_id=key_id,
            user_uuid=user_uuid,
            created_ms=now_ms,
            expires_ms=expires_ms,
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


async def active_user(
    conn: AsyncConnection, session_id: str, org: str, user_uuid: str, now_ms: int
) -> UserRecord | None:
    """The session's account when the session exists, has not expired, and belongs to that account
    of `org`, which is not disabled (one indexed read: the session row and the account row)."""
    row = (
        await conn.execute(
            select(*USER_COLUMNS)
            .join(
                ui_sessions,
                (ui_sessions.c.org_uuid == users.c.org_uuid) & (ui_sessions.c.user_uuid == users.c.uuid),
            )
            .where(
                ui_sessions.c.id == session_hash(session_id),
                ui_sessions.c.expires_ms > now_ms,
                ui_sessions.c.org_uuid == org,
                users.c.org_uuid == org,
                users.c.uuid == user_uuid,
                users.c.disabled_ms.is_(None),
            )
        )
    ).first()
    return record_of(row) if row else None


async def remove_for_user(conn: AsyncConnection, org: str, user_uuid: str, keep: str | None = None) -> int:
    """End every session of the account (but the one of the session id `keep`)."""
    stmt = delete(ui_sessions).where(ui_sessions.c.org_uuid == org, ui_sessions.c.user_uuid == user_uuid)
    if keep is not None:
        stmt = stmt.where(ui_sessions.c.id != session_hash(keep))
    result = await conn.execute(stmt)
    return int(result.rowcount or 0)


async def remove(conn: AsyncConnection, session_id: str) -> None:
    await conn.execute(delete(ui_sessions).where(ui_sessions.c.id == session_hash(session_id)))


async def purge_expired(conn: AsyncConnection, now_ms: int) -> int:
    result = await conn.execute(delete(ui_sessions).where(ui_sessions.c.expires_ms <= now_ms))
    return int(result.rowcount or 0)
