"""The readiness write probe: one committed write that proves the database accepts writes."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.sql import now_ms
from stockledger.store.tables import write_probes


async def probe_write(conn: AsyncConnection) -> None:
    """Insert a row and delete it again in the caller's write transaction. The commit that follows
    writes both to the log (SQLite's WAL, PostgreSQL's WAL), so a read-only or full database fails
    here, as every real write would; the table stays empty. Each probe has its own id, so probes of
    several processes never wait for one another."""
    probe_id = uuid.uuid4().hex
    await conn.execute(insert(write_probes).values(id=probe_id, at_ms=now_ms()))
    await conn.execute(delete(write_probes).where(write_probes.c.id == probe_id))
