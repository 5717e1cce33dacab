"""Small SQL helpers shared by the store modules (dialect-specific INSERT … ON CONFLICT, clock)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT that supports on_conflict_do_nothing / on_conflict_do_update on both backends."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
