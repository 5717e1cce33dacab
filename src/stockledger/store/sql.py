"""Small SQL helpers shared by the store modules (dialect-specific INSERT … ON CONFLICT, clock)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")

# A statement takes at most 32,767 bound parameters on PostgreSQL (asyncpg) and 32,766 on SQLite;
# client-sized IN lists are split into chunks well below that.
MAX_IN_LIST = 5_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT that supports on_conflict_do_nothing / on_conflict_do_update on both backends."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunked(values: Sequence[T], size: int = MAX_IN_LIST) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` values (order kept)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
