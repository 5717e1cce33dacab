"""Making sure an organization and its system locations exist before any of its requests."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store import orgs
from stockledger.store.db import Database


async def ensure(db: Database, org: str) -> None:
    """Create the organization (and its four system locations) on its first request, exactly once."""
    if org in db.known_orgs:
        return

    async def _create(conn: AsyncConnection) -> bool:
        return await orgs.create_if_missing(conn, org)

    await db.write(_create)
    db.known_orgs[org] = True
