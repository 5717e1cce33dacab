"""Operations checks: whether the database is ready to serve, and how deep the outbox is."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store import deliveries
from stockledger.store.db import Database
from stockledger.store.migrate import current_revision, head_revision, is_known_revision
from stockledger.store.readiness import probe_write

log = logging.getLogger("stockledger.ops")

ReadyStatus = Literal["ready", "unavailable", "migrations pending"]


@dataclass(frozen=True)
class Readiness:
    """`ready` with the schema revision; otherwise why not (the revisions, or a reason)."""

    status: ReadyStatus
    revision: str | None = None
    head: str | None = None
    reason: str | None = None


async def readiness(db: Database) -> Readiness:
    """Ready when the database answers, its schema is at the newest migration (or a newer release's),
    and it accepts a write (a row inserted and deleted in one committed transaction)."""

    async def check(conn: AsyncConnection) -> str | None:
        await conn.execute(text("SELECT 1"))
        return await current_revision(conn)

    try:
        revision = await db.read(check)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return Readiness("unavailable", reason=type(exc).__name__)
    head = head_revision()
    if revision != head and (revision is None or is_known_revision(revision)):
        return Readiness("migrations pending", revision=revision, head=head)
    # A revision this release does not know is a newer release's: during a rolling upgrade the
    # database is migrated first and the previous release keeps serving until it is replaced.
    try:
        await db.write(probe_write)
    except Exception as exc:  # read-only, disk full, out of space for the log: every write would fail
        log.warning("not ready: the write probe failed", extra={"error": str(exc)[:200]})
        return Readiness("unavailable", reason=f"the database refuses writes ({type(exc).__name__})")
    return Readiness("ready", revision=revision)


async def outbox_depth(db: Database) -> int:
    """Events not yet fanned out plus deliveries not yet made."""
    return await db.read(deliveries.depth)
