"""Export and import of the whole database as JSON lines (a logical backup, portable across backends).

The file starts with a header line naming the schema revision; then one line per row:
`{"table": "...", "row": {...}}`, tables in dependency order. Import requires an empty database at
the same schema revision and runs in one transaction: it lands whole or not at all.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.migrate import current_revision
from stockledger.store.tables import instance_settings, metadata

FORMAT = "stockledger-export"
FORMAT_VERSION = 1
IMPORT_BATCH_ROWS = 1000  # rows per INSERT: large enough to be fast, small enough for SQLite's limits


class BackupError(Exception):
    """The file cannot be imported; the message says why."""


def _tables() -> list[Table]:
    return list(metadata.sorted_tables)


BYTES_MARKER = "$base64"  # binary values (stored responses) travel as {"$base64": "..."}


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {BYTES_MARKER: base64.b64encode(bytes(value)).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {BYTES_MARKER}:
        return base64.b64decode(value[BYTES_MARKER])
    return value


async def export_lines(conn: AsyncConnection) -> AsyncIterator[bytes]:
    """Every row of every table, streamed (memory does not grow with the database). Must be the
    first work of its transaction: on PostgreSQL it asks for one snapshot for all tables, or rows
    committed while the export runs would reach later tables only (balances not equal to the
    ledger in the backup). A SQLite read transaction is one snapshot already."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    header = {"format": FORMAT, "version": FORMAT_VERSION, "revision": await current_revision(conn)}
    yield orjson.dumps(header) + b"\n"
    for table in _tables():
        order = list(table.primary_key.columns) or list(table.columns)
        names = [str(column.name) for column in table.columns]
        result = await conn.stream(select(table).order_by(*order))
        async for row in result:
            values = {name: _encode(value) for name, value in zip(names, row, strict=True)}
            yield orjson.dumps({"table": str(table.name), "row": values}) + b"\n"


async def row_total(conn: AsyncConnection) -> int:
    """How many rows an export made in this transaction will hold (its snapshot's rows)."""
    total = 0
    for table in _tables():
        total += int(await conn.scalar(select(func.count()).select_from(table)) or 0)
    return total


async def import_lines(conn: AsyncConnection, lines: Iterable[bytes]) -> dict[str, int]:
    """Load an export into this (empty, migrated) database; returns rows imported per table."""
    iterator = iter(lines)
    try:
        header = orjson.loads(next(iterator))
    except (StopIteration, orjson.JSONDecodeError):
        raise BackupError("the file is not a stockledger export (no header line)") from None
    if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
        raise BackupError("the file is not a stockledger export of a known version")
    revision = await current_revision(conn)
    if header.get("revision") != revision:
        raise BackupError(
            f"the export is of schema revision {header.get('revision')} but this database is at {revision}; "
            "migrate the database (or the source) to the same revision first"
        )
    tables = {table.name: table for table in _tables()}
    for table in tables.values():
        if table is instance_settings:  # the installation's own settings, not data: replaced below
            continue
        if await conn.scalar(select(func.count()).select_from(table)):
            raise BackupError(
                f"the database is not empty (table {table.name} has rows); import needs an empty one"
            )
    # The imported data (its API keys) defines the installation: its settings (the fingerprint of
    # the secret those keys were signed with) replace what a `serve` here may have recorded.
    await conn.execute(delete(instance_settings))
    counts: dict[str, int] = {}
    pending: dict[str, list[dict[str, Any]]] = {}

    async def flush(name: str) -> None:
        rows = pending.pop(name, [])
        if rows:
            await conn.execute(insert(tables[name]), rows)
            counts[name] = counts.get(name, 0) + len(rows)

    for number, line in enumerate(iterator, start=2):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
            name, row = entry["table"], entry["row"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise BackupError(f"line {number} is not a row of an export") from None
        if name not in tables:
            raise BackupError(f"line {number} names an unknown table {name!r}")
        pending.setdefault(name, []).append({key: _decode(value) for key, value in row.items()})
        if len(pending[name]) >= IMPORT_BATCH_ROWS:
            await flush(name)
    for name in list(pending):
        await flush(name)
    if conn.dialect.name == "postgresql":
        await _reset_sequences(conn)
    return counts


async def _reset_sequences(conn: AsyncConnection) -> None:
    """Serial columns continue after the imported ids (PostgreSQL does not advance them on explicit ids)."""
    for table in _tables():
        for column in table.columns:
            if column.autoincrement is True and column.primary_key:
                # Names come from our own table definitions, never from input.
                sql = (
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "  # noqa: S608
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                )
                await conn.execute(text(sql))
