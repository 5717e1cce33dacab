"""The SQLite driver: one hand-off to the connection's thread per statement, same results, nothing of
aiosqlite but its module, and a connection that survives cancelled awaits and closes its thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import bindparam, text
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
    `sqlite_driver.Connection._call`)."""
    calls: list[str] = []
    original = sqlite_driver.Connection._call

    async def counting(self: sqlite_driver.Connection, fn: Callable[..., Any], *args: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        run: Callable[..., Awaitable[Any]] = original
        return await run(self, fn, *args)

    monkeypatch.setattr(sqlite_driver.Connection, "_call", counting)
    return calls


async def count_parents(conn: AsyncConnection) -> int:
    return int((await conn.execute(text("SELECT count(*) FROM parent"))).scalar_one())


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
        hand_offs.clear()
        renamed = await conn.execute(
            text("UPDATE parent SET name = :name WHERE id = :id").bindparams(
                bindparam("name"), bindparam("id")
            ),
            [{"name": "a", "id": 8}, {"name": "b", "id": 9}],
        )
        assert renamed.rowcount == 2
        assert hand_offs == ["run"]  # executemany too

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
        assert hand_offs == ["close_cursor"]
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

    assert await sqlite_db.write(count_parents) == LONG
    assert await sqlite_db.read(count_parents) == LONG


async def test_connections_keep_their_settings(sqlite_db: Database) -> None:
    async def settings(conn: AsyncConnection) -> tuple[Any, ...]:
        names = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        return tuple([(await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one() for name in names])

    expected = ("wal", 1, SQLITE_BUSY_TIMEOUT_MS, 1)
    assert await sqlite_db.write(settings) == expected
    assert await sqlite_db.read(settings) == expected

    connection = await sqlite_db.write(driver_connection)
    assert connection.isolation_level is None  # transactions are ours: BEGIN IMMEDIATE


async def driver_connection(conn: AsyncConnection) -> sqlite_driver.Connection:
    raw = await conn.get_raw_connection()
    connection = raw.driver_connection
    assert isinstance(connection, sqlite_driver.Connection)
    return connection


async def count_children(conn: AsyncConnection) -> int:
    return int((await conn.execute(text("SELECT count(*) FROM child"))).scalar_one())


async def test_the_engines_use_nothing_of_aiosqlite_but_its_module(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLAlchemy's dialect imports aiosqlite (for sqlite3's exceptions); connections and cursors are
    the driver's own, so aiosqlite's internals may change from one release to the next."""

    def unused(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("aiosqlite's connection or cursor was used")

    for name in ("__init__", "_execute", "cursor", "execute", "commit", "rollback", "close"):
        monkeypatch.setattr(aiosqlite.Connection, name, unused)
    for name in ("__init__", "execute", "executemany", "fetchone", "fetchmany", "fetchall", "close"):
        monkeypatch.setattr(aiosqlite.Cursor, name, unused)
    await sqlite_db.dispose()  # the next connections open under the patches

    async def insert(conn: AsyncConnection) -> int:
        await conn.execute(text("INSERT INTO child (parent) VALUES (1), (2)"))
        return await count_children(conn)

    assert await sqlite_db.write(insert) == 2
    assert await sqlite_db.read(count_children) == 2
    assert await sqlite_db.read(count_parents) == LONG


class Gate:
    """A SQL function `gate()` that holds the connection's thread until opened: a statement to cancel
    while it runs."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self) -> int:
        self.entered.set()
        self.opened.wait(30)  # bounded, so that a failing test cannot hang the suite
        return 1

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30)

    async def install(self, conn: AsyncConnection) -> None:
        await (await driver_connection(conn)).create_function("gate", 0, self)


async def cancel_while_held(task: asyncio.Task[Any], gate: Gate) -> None:
    """Cancel `task` while its statement runs, then let the statement end: the await is cancelled."""
    await gate.wait_entered()
    task.cancel()
    await asyncio.sleep(0.1)
    assert not task.done()  # the statement still holds the connection's thread
    gate.opened.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)


def checkpoint_busy(path: Path) -> int:
    """1 while a reader holds a snapshot older than the log's end (e.g. a statement left open)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        return int(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
    finally:
        conn.close()


async def test_a_read_cancelled_mid_statement_leaves_no_statement_or_snapshot_behind(
    sqlite_db: Database, tmp_path: Path
) -> None:
    gate = Gate()

    async def read(conn: AsyncConnection) -> None:
        await gate.install(conn)
        # Longer than a prefetch: its sqlite3 cursor is still open when the statement's call returns.
        await conn.execute(text("SELECT id FROM parent WHERE gate() = 1 ORDER BY id"))

    await cancel_while_held(asyncio.create_task(sqlite_db.read(read)), gate)

    async def insert(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO child (parent) VALUES (1)"))

    await sqlite_db.write(insert)
    for _ in range(100):  # what the cancelled read left is released on its connection's thread, soon
        if checkpoint_busy(tmp_path / "driver.db") == 0:
            break
        await asyncio.sleep(0.1)
    assert checkpoint_busy(tmp_path / "driver.db") == 0
    reads = [sqlite_db.read(count_parents) for _ in range(8)]  # more than the pool's 4 connections
    assert await asyncio.wait_for(asyncio.gather(*reads), 30) == [LONG] * 8


async def test_a_write_cancelled_mid_statement_is_rolled_back_and_the_writer_carries_on(
    sqlite_db: Database,
) -> None:
    gate = Gate()

    async def insert_all(conn: AsyncConnection) -> None:
        await gate.install(conn)
        await conn.execute(text("INSERT INTO child (parent) SELECT id FROM parent WHERE gate() = 1"))

    await cancel_while_held(asyncio.create_task(sqlite_db.write(insert_all)), gate)

    async def insert(conn: AsyncConnection) -> int:
        await conn.execute(text("INSERT INTO child (parent) VALUES (1)"))
        return await count_children(conn)

    assert await sqlite_db.write(insert) == 1  # nothing of the cancelled statement was committed
    assert await sqlite_db.read(count_children) == 1


async def test_a_write_cancelled_while_waiting_for_the_lock_leaves_the_writer_usable(
    sqlite_db: Database, tmp_path: Path, hand_offs: list[str]
) -> None:
    async def insert(conn: AsyncConnection) -> int:
        await conn.execute(text("INSERT INTO child (parent) VALUES (1)"))
        return await count_children(conn)

    blocker = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process's writer, as far as the service can tell
        hand_offs.clear()
        task = asyncio.create_task(sqlite_db.write(insert))
        for _ in range(300):
            if hand_offs:  # BEGIN IMMEDIATE is on the connection's thread, waiting for the lock
                break
            await asyncio.sleep(0.01)
        assert hand_offs == ["run"]
        await asyncio.sleep(0.2)
        assert not task.done()
        task.cancel()
        await asyncio.sleep(0.1)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert await asyncio.wait_for(sqlite_db.write(insert), 30) == 1  # the cancelled insert never ran


def new_connection_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before and t.name == "sqlite-connection"]


async def create_child_table(conn: AsyncConnection) -> None:
    await conn.exec_driver_sql("CREATE TABLE child (id INTEGER PRIMARY KEY)")


async def test_closing_ends_each_connection_thread_and_refuses_further_work(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'closing.db'}")
    await database.write(create_child_table)
    connection = await database.read(driver_connection)
    threads = new_connection_threads(before)
    assert len(threads) == 2  # the writer's and one reader's
    await database.dispose()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    # sqlite3's own error for a closed connection, which SQLAlchemy takes for a disconnect
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        await connection.execute("SELECT 1")
    await connection.close()  # closing again does nothing


async def test_a_connection_stopped_or_dropped_unclosed_still_ends_its_thread(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    stopped = await sqlite_driver.connect(str(tmp_path / "a.db"))
    dropped = await sqlite_driver.connect(str(tmp_path / "b.db"))
    await (await dropped.execute("CREATE TABLE t (x)")).close()
    threads = new_connection_threads(before)
    assert len(threads) == 2
    stopped.stop()  # what SQLAlchemy calls to terminate a connection: no waiting
    del dropped
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        await sqlite_driver.connect(str(tmp_path / "missing" / "c.db"))
    for thread in new_connection_threads(before):  # a failed connect leaves no thread either
        thread.join(10)
        assert not thread.is_alive()


class HeldConnection(sqlite3.Connection):
    """A sqlite3 connection whose opening waits for `gate` (a connect to cancel while it runs)."""

    gate = Gate()
    opened: list[sqlite3.Connection] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened.append(self)
        self.gate()


async def test_a_cancelled_connect_closes_what_it_opened_and_ends_its_thread(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    task = asyncio.create_task(sqlite_driver.connect(str(tmp_path / "held.db"), factory=HeldConnection))
    await HeldConnection.gate.wait_entered()
    task.cancel()
    await asyncio.sleep(0.1)
    HeldConnection.gate.opened.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    threads = new_connection_threads(before)
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    [opened] = HeldConnection.opened
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        opened.total_changes  # noqa: B018  # closed on its thread before the thread ended


async def test_a_cursor_hands_out_a_long_result_whole_however_it_is_read(tmp_path: Path) -> None:
    conn = await sqlite_driver.connect(str(tmp_path / "rows.db"), isolation_level=None)
    try:
        await conn.execute(
            "CREATE TABLE t AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "SELECT i FROM n",
            (LONG,),
        )
        query, expected = "SELECT i FROM t ORDER BY i", list(range(1, LONG + 1))
        cursor = await conn.execute(query)
        first = [await cursor.fetchone() for _ in range(3)]
        middle = await cursor.fetchmany(sqlite_driver.PREFETCH_ROWS)  # across the prefetch's end
        rest = await cursor.fetchall()
        assert [r[0] for r in [*first, *middle, *rest]] == expected
        assert await cursor.fetchone() is None
        async with conn.cursor() as iterated:
            await iterated.execute(query)
            assert [r[0] async for r in iterated] == expected
        # Executed again before its result ended, a cursor starts afresh.
        await cursor.execute(query)
        assert await cursor.fetchmany(2) == [(1,), (2,)]
        await cursor.executemany("INSERT INTO t (i) VALUES (?)", [(0,), (-1,)])
        assert cursor.rowcount == 2
        assert (await (await conn.execute("SELECT count(*) FROM t")).fetchall()) == [(LONG + 2,)]
    finally:
        await conn.close()
