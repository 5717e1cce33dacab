"""API keys as credentials: the one check both front doors use (POST /token and the back-office
sign-in), and the back-office sessions a key opens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger import tokens
from stockledger.store import apikeys, ui_sessions
from stockledger.store.apikeys import ApiKeyRecord
from stockledger.store.db import Database
from stockledger.store.sql import now_ms

__all__ = [
    "AcceptedKey",
    "ApiKeyRecord",
    "KeyRefused",
    "end_session",
    "open_session",
    "session_key",
    "verify_api_key",
]

NOT_A_KEY = "the assertion is not a valid API key"
EXPIRED = "the API key has expired"
UNKNOWN_OR_REVOKED = "the API key is unknown or revoked"


class KeyRefused(Exception):
    """The key is not accepted; the message says whether it is no key of ours, expired, or not (any
    more) active."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class AcceptedKey:
    """A key that passed every check: its record, and the client id it names (None for keys issued
    before keys carried one)."""

    record: ApiKeyRecord
    client_id: str | None


async def verify_api_key(db: Database, secret: str, api_key: str) -> AcceptedKey:
    """The key when it is signed by this server, unexpired, recorded, not revoked, and of the
    organization it names; otherwise KeyRefused."""
    try:
        claims = tokens.verify_api_key(secret, api_key)
    except tokens.TokenExpired:
        raise KeyRefused(EXPIRED, expired=True) from None
    except tokens.TokenError:
        raise KeyRefused(NOT_A_KEY) from None
    key_id, org = str(claims["kid"]), str(claims["org"])

    async def lookup(conn: AsyncConnection) -> ApiKeyRecord | None:
        return await apikeys.get(conn, key_id)

    record = await db.read(lookup)
    if record is None or record.revoked_ms is not None or record.org_uuid != org:
        raise KeyRefused(UNKNOWN_OR_REVOKED)
    return AcceptedKey(record, tokens.api_key_client_id(claims))


async def open_session(db: Database, session_id: str, record: ApiKeyRecord, ttl_s: int) -> None:
    """Record a back-office session of the key, valid for `ttl_s` seconds."""
    now = now_ms()

    async def open_(conn: AsyncConnection) -> None:
        await ui_sessions.purge_expired(conn, now)  # sign-ins are rare: they tidy up
        await ui_sessions.insert_session(
            conn, session_id, record.org_uuid, now, now + ttl_s * 1000, key_id=record.key_id
        )

    await db.write(open_)


async def end_session(db: Database, session_id: str) -> None:
    """Delete the session's row: a copy of its cookie is refused from then on."""

    async def end(conn: AsyncConnection) -> None:
        await ui_sessions.remove(conn, session_id)

    await db.write(end)


async def session_key(db: Database, session_id: str, org: str, key_id: str) -> ApiKeyRecord | None:
    """The session's key when the session is open, unexpired, and its key is still active."""

    async def lookup(conn: AsyncConnection) -> ApiKeyRecord | None:
        return await ui_sessions.active_key(conn, session_id, org, key_id, now_ms())

    return await db.read(lookup)
