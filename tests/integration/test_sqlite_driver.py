"""The SQLite driver connection: one hand-off to the connection's thread per statement, same results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store import sqlite_driver
from stockledger.store.db import SQLITE_BUSY_TIMEOUT_MS, Database

LONG = sqlite_driver.PREFETCH_ROWS * 3 + 7  # rows of a result longer than one prefetch


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")

    async def schema(conn: AsyncConnection) -> None:
        await conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        await conn.exec_driver_sql(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent)"
        )
        await conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :long) "
            "INSERT INTO parent (id, name) SELECT i, 'p' || i FROM n",
            {"long": LONG},
        )

    await database.write(schema)
    yield database
    await database.dispose()


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions handed to a connection's thread, in order (every sqlite3 call goes through
    `aiosqlite.Connection._execute`)."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        run: Callable[..., Awaitable[Any]] = original
        return await run(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return calls


async def test_a_query_and_its_rows_take_one_hand_off(sqlite_db: Database, hand_offs: list[str]) -> None:
    async def work(conn: AsyncConnection) -> None:
        await conn.exec_driver_sql("SELECT 1")  # the transaction's BEGIN is behind us
        hand_offs.clear()
        rows = (await conn.execute(text("SELECT id, name FROM parent WHERE id <= 3 ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [(1, "p1"), (2, "p2"), (3, "p3")]
        assert len(hand_offs) == 1, hand_offs
        hand_offs.clear()
        one = (await conn.execute(text("SELECT name FROM parent WHERE id = 5"))).scalar_one()
        assert one == "p5"
        assert len(hand_offs) == 1, hand_offs

    await sqlite_db.read(work)


async def test_a_write_takes_one_hand_off_and_reports_its_rowcount_and_rowid(
    sqlite_db: Database, hand_offs: list[str]
) -> None:
    async def work(conn: AsyncConnection) -> None:
        await conn.exec_driver_sql("SELECT 1")
        hand_offs.clear()
        updated = await conn.execute(text("UPDATE parent SET name = name || 'x' WHERE id <= 4"))
        assert updated.rowcount == 4
        assert len(hand_offs) == 1, hand_offs
        hand_offs.clear()
        inserted = await conn.execute(text("INSERT INTO child (parent) VALUES (2)"))
        assert inserted.lastrowid == 1
        assert len(hand_offs) == 1, hand_offs
        hand_offs.clear()
        returned = await conn.execute(text("UPDATE parent SET name = 'y' WHERE id = 7 RETURNING id, name"))
        assert [tuple(r) for r in returned.all()] == [(7, "y")]
        assert len(hand_offs) == 1, hand_offs

    await sqlite_db.write(work)


async def test_results_longer_than_a_prefetch_arrive_whole_and_in_order(
    sqlite_db: Database, hand_offs: list[str]
) -> None:
    async def work(conn: AsyncConnection) -> None:
        rows = (await conn.execute(text("SELECT id FROM parent ORDER BY id"))).scalars().all()
        assert rows == list(range(1, LONG + 1))
        streamed: list[int] = []
        result = await conn.stream(text("SELECT id FROM parent ORDER BY id").execution_options(yield_per=100))
        async for partition in result.partitions(100):
            assert len(partition) <= 100
            streamed.extend(r[0] for r in partition)
        assert streamed == rows
        # A stream left unfinished releases its statement; the connection carries on.
        partial = await conn.stream(text("SELECT id FROM parent ORDER BY id").execution_options(yield_per=10))
        assert [r[0] for r in await partial.fetchmany(3)] == [1, 2, 3]
        hand_offs.clear()
        await partial.close()
        assert hand_offs == ["_close"]
        assert (await conn.execute(text("SELECT count(*) FROM parent"))).scalar_one() == LONG

    await sqlite_db.read(work)


async def test_statement_errors_surface_as_before_and_leave_the_connection_usable(
    sqlite_db: Database,
) -> None:
    async def duplicate(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO parent (id, name) VALUES (:id, 'p1')"), {"id": LONG + 1})

    async def orphan(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO child (parent) VALUES (:p)"), {"p": LONG + 99})

    with pytest.raises(IntegrityError, match="UNIQUE"):
        await sqlite_db.write(duplicate)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):  # foreign keys are enforced
        await sqlite_db.write(orphan)

    async def count(conn: AsyncConnection) -> int:
        return int((await conn.execute(text("SELECT count(*) FROM parent"))).scalar_one())

    assert await sqlite_db.write(count) == LONG
    assert await sqlite_db.read(count) == LONG


async def test_connections_keep_their_settings(sqlite_db: Database) -> None:
    async def settings(conn: AsyncConnection) -> tuple[Any, ...]:
        names = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        return tuple([(await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one() for name in names])

    expected = ("wal", 1, SQLITE_BUSY_TIMEOUT_MS, 1)
    assert await sqlite_db.write(settings) == expected
    assert await sqlite_db.read(settings) == expected

    async def driver(conn: AsyncConnection) -> Any:
        raw = await conn.get_raw_connection()
        return raw.driver_connection

    connection = await sqlite_db.write(driver)
    assert isinstance(connection, sqlite_driver.PrefetchConnection)
    assert connection.isolation_level is None  # transactions are ours: BEGIN IMMEDIATE
