"""Settings of the installation itself (table `instance_settings`)."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.sql import now_ms
from stockledger.store.tables import instance_settings

SECRET_FINGERPRINT = "secret_fingerprint"


def secret_fingerprint(secret: str) -> str:
    """Names a secret without revealing it (an HMAC of a fixed text under the secret)."""
    return hmac.new(secret.encode(), b"stockledger secret fingerprint", hashlib.sha256).hexdigest()[:32]


async def _recorded(conn: AsyncConnection) -> str | None:
    return await conn.scalar(
        select(instance_settings.c.value).where(instance_settings.c.name == SECRET_FINGERPRINT)
    )


async def other_secret_recorded(conn: AsyncConnection, secret: str) -> bool:
    """Whether the database records a secret, and it is not `secret` (nothing is written)."""
    recorded = await _recorded(conn)
    return recorded is not None and not hmac.compare_digest(recorded, secret_fingerprint(secret))


async def claim_secret(conn: AsyncConnection, secret: str) -> bool:
    """Record `secret` as the installation's secret if none is recorded yet; False when another one is."""
    fingerprint = secret_fingerprint(secret)
    recorded = await _recorded(conn)
    if recorded is None:
        await conn.execute(
            instance_settings.insert().values(name=SECRET_FINGERPRINT, value=fingerprint, updated_ms=now_ms())
        )
        return True
    return hmac.compare_digest(recorded, fingerprint)


async def forget_secret(conn: AsyncConnection) -> None:
    await conn.execute(delete(instance_settings).where(instance_settings.c.name == SECRET_FINGERPRINT))
