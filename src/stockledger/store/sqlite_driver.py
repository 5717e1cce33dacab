"""The SQLite driver: the standard library's sqlite3 on one thread per connection, one hand-off per statement.

sqlite3 blocks, so every call runs on the connection's own thread, and each call is a hand-off there
and back (a queue put, then a wake-up of the event loop) worth tens of microseconds of CPU. Plain
aiosqlite under SQLAlchemy's adapter makes about four per statement (cursor creation, execute,
fetchall, close). Here a cursor does all of that in one call on the connection's thread: it creates a
sqlite3 cursor, executes, fetches the first `PREFETCH_ROWS` rows and reads `description`, `rowcount`
and `lastrowid`; when the result ended within those rows the sqlite3 cursor is closed in the same
call. Fetches then serve rows from memory and `close` needs no hand-off. A longer result (a streamed
fetch, a backup) keeps its sqlite3 cursor open and fetches the rest as asked, so memory stays bounded
by what the caller asks for plus `PREFETCH_ROWS`.

`Connection` and `Cursor` offer what SQLAlchemy's `sqlite+aiosqlite` dialect calls on an aiosqlite
connection and its cursors (its adapter in SQLAlchemy 2.0 and 2.1), with the same meaning, and
nothing of aiosqlite itself: engines get them through the public `async_creator` of
`create_async_engine` (see `async_creator`). The dialect still imports aiosqlite for its exception
classes, which are sqlite3's own.

Work reaches the thread in order and always runs to its end, even when the task awaiting it is
cancelled; what the caller queues afterwards (SQLAlchemy's rollback, the pool's reset or close) runs
after it, so a cancelled await never leaves the connection in between two statements. A result whose
awaiter was cancelled has its sqlite3 cursor closed on the thread, and closing a connection closes
the cursors of its unfinished results first (else sqlite3 would keep the database open, and a read
snapshot with it, for as long as one of them is referenced).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from functools import partial
from queue import SimpleQueue
from typing import Any

from sqlalchemy.engine import make_url

# Rows fetched with the statement itself. Results of the service's statements are mostly a handful of
# rows; a longer one costs one more hand-off per fetch the caller makes.
PREFETCH_ROWS = 256

_Description = tuple[tuple[str, None, None, None, None, None, None], ...]
# What the connection's thread runs: the future to settle (None: nobody waits), the function, its args.
_Job = tuple[asyncio.Future[Any] | None, Callable[..., Any], tuple[Any, ...]]
_Jobs = SimpleQueue[_Job | None]  # None stops the thread


class _Outcome:
    """What one call on the connection's thread brings back for a cursor."""

    __slots__ = ("cursor", "description", "lastrowid", "rowcount", "rows", "session")

    def __init__(
        self,
        session: _Session,
        cursor: sqlite3.Cursor | None,
        rows: list[Any],
        description: _Description | None,
        rowcount: int,
        lastrowid: int | None,
    ) -> None:
        self.session = session
        self.cursor = cursor  # the sqlite3 cursor of a result not read to its end, else None
        self.rows = rows
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid


class _Session:
    """The sqlite3 side of a connection. Its methods run on the connection's thread only."""

    __slots__ = ("conn", "isolation_level", "unfinished")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.conn = sqlite3.connect(*args, **kwargs)
        self.isolation_level = self.conn.isolation_level  # fixed: nothing here sets it
        # Cursors whose results were not read to their end. Closing the connection closes them first:
        # sqlite3 would otherwise keep it open (and its read snapshot) for as long as one is referenced,
        # e.g. by the result of a cancelled await on its way back. Weak: a cursor dropped unclosed is
        # released by the garbage collector, as any sqlite3 cursor.
        self.unfinished: weakref.WeakSet[sqlite3.Cursor] = weakref.WeakSet()

    def _outcome(self, cursor: sqlite3.Cursor, rows: list[Any], wanted: int | None) -> _Outcome:
        """Read the cursor's attributes; close it if the result ended (fewer rows than `wanted`, all
        rows with None, or no result at all)."""
        outcome = _Outcome(self, cursor, rows, cursor.description, cursor.rowcount, cursor.lastrowid)
        if wanted is None or len(rows) < wanted or outcome.description is None:
            cursor.close()
            outcome.cursor = None
        return outcome

    def run(self, previous: sqlite3.Cursor | None, sql: str, parameters: Any, many: bool) -> _Outcome:
        """One statement from cursor creation to its first rows (after closing the unfinished result
        the cursor had before, if any)."""
        if previous is not None:
            self.close_cursor(previous)
        cursor = self.conn.cursor()
        try:
            if many:
                cursor.executemany(sql, parameters)
            else:
                cursor.execute(sql, parameters)
            rows = cursor.fetchmany(PREFETCH_ROWS) if cursor.description is not None else []
        except BaseException:
            cursor.close()
            raise
        outcome = self._outcome(cursor, rows, PREFETCH_ROWS)
        if outcome.cursor is not None:
            self.unfinished.add(cursor)
        return outcome

    def run_in_transaction(self, sql: str, parameters: Any, many: bool, rows: bool) -> list[Any]:
        """One statement (once per parameter set with `many`) inside the open transaction, with all
        its rows (none when not `rows`). Refused when no transaction is open: it never commits alone."""
        if not self.conn.in_transaction:
            raise sqlite3.ProgrammingError("driver-level statements run only inside a transaction")
        cursor = self.conn.cursor()
        try:
            if not many:
                one: list[Any] = cursor.execute(sql, parameters).fetchall()
                return one
            if not rows:
                cursor.executemany(sql, parameters)
                return []
            found: list[Any] = []
            for each in parameters:
                found += cursor.execute(sql, each).fetchall()
            return found
        finally:
            cursor.close()

    def fetch(self, cursor: sqlite3.Cursor, size: int | None) -> _Outcome:
        """`size` more rows (all with None) of an unfinished result."""
        try:
            rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
        except BaseException:
            self.close_cursor(cursor)
            raise
        outcome = self._outcome(cursor, rows, size)
        if outcome.cursor is None:
            self.unfinished.discard(cursor)
        return outcome

    def close_cursor(self, cursor: sqlite3.Cursor) -> None:
        self.unfinished.discard(cursor)
        cursor.close()

    def close(self) -> None:
        for cursor in list(self.unfinished):
            cursor.close()
        self.unfinished.clear()
        self.conn.close()


def _work(jobs: _Jobs) -> None:
    """The connection's thread: run the jobs in order until told to stop."""
    while (job := jobs.get()) is not None:
        future, fn, args = job
        try:
            result = fn(*args)
        except BaseException as exc:  # delivered to the awaiter, whatever it is
            if future is not None:
                _reply(future, _fail, exc)
        else:
            if future is not None:
                _reply(future, _deliver, jobs, result)


def _reply(future: asyncio.Future[Any], callback: Callable[..., None], *args: Any) -> None:
    try:
        future.get_loop().call_soon_threadsafe(callback, future, *args)
    except RuntimeError:  # the event loop is closed: nobody is waiting any more
        pass


def _deliver(future: asyncio.Future[Any], jobs: _Jobs, result: Any) -> None:
    """On the event loop: hand `result` to its awaiter or, if the await was cancelled, have the
    result's unfinished sqlite3 cursor closed on the connection's thread (if the connection closes
    first, it closes the cursor itself)."""
    if not future.done():
        future.set_result(result)
    elif isinstance(result, _Outcome) and result.cursor is not None:
        jobs.put((None, result.session.close_cursor, (result.cursor,)))


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _shut(jobs: _Jobs, session: _Session) -> None:
    """Close `session` and end its thread, once the jobs queued before have run."""
    jobs.put((None, session.close, ()))
    jobs.put(None)


CLOSED_MESSAGE = "Cannot operate on a closed database."  # sqlite3's, which SQLAlchemy takes for a disconnect


class Connection:
    """A sqlite3 connection on a thread of its own, driven from asyncio (open it with `connect`).

    Its isolation level is the one it was opened with: SQLAlchemy's adapter sets it through
    aiosqlite's internals, which this connection does not have.
    """

    def __init__(self, jobs: _Jobs, session: _Session) -> None:
        self._jobs = jobs
        self._session = session  # used on the connection's thread only (sqlite3 checks it)
        self._closed = False
        self.isolation_level = session.isolation_level
        # A connection dropped without being closed still closes its sqlite3 connection and thread.
        self._finalizer = weakref.finalize(self, _shut, jobs, session)

    @property
    def _connection(self) -> sqlite3.Connection | None:
        """Set while open: SQLAlchemy 2.1's adapter commits and rolls back only when it is."""
        return None if self._closed else self._session.conn

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` on the connection's thread: the one hand-off of every operation."""
        if self._closed:
            raise sqlite3.ProgrammingError(CLOSED_MESSAGE)
        future = asyncio.get_running_loop().create_future()
        self._jobs.put((future, fn, args))
        return await future

    def cursor(self) -> Cursor:
        """A cursor; it can be awaited or entered (`async with`) as aiosqlite's can, at no cost."""
        return Cursor(self)

    async def execute(self, sql: str, parameters: Any = None) -> Cursor:
        return await Cursor(self).execute(sql, parameters)

    async def run_in_transaction(
        self, sql: str, parameters: Any, *, many: bool = False, rows: bool = True
    ) -> list[Any]:
        """A statement and all its rows in one hand-off, inside the open transaction only (the
        service's driver-level statements, store/driver_sql.py)."""
        result: list[Any] = await self._call(self._session.run_in_transaction, sql, parameters, many, rows)
        return result

    async def commit(self) -> None:
        await self._call(self._session.conn.commit)

    async def rollback(self) -> None:
        await self._call(self._session.conn.rollback)

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], deterministic: bool = False
    ) -> None:
        await self._call(
            partial(self._session.conn.create_function, name, num_params, func, deterministic=deterministic)
        )

    async def close(self) -> None:
        """Close once the work queued before has run; closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        future = asyncio.get_running_loop().create_future()
        self._jobs.put((future, self._session.close, ()))
        self._jobs.put(None)
        await future  # if this await is cancelled, the connection still closes

    def stop(self) -> None:
        """Close without waiting, once the work queued before has run (what SQLAlchemy calls to
        terminate a connection it gave up on)."""
        self._closed = True
        self._finalizer()


class Cursor:
    """A cursor whose statements run from execution to their first rows in one hand-off."""

    def __init__(self, connection: Connection) -> None:  # no sqlite3 cursor until a statement runs
        self._connection = connection
        self._open: sqlite3.Cursor | None = None  # the sqlite3 cursor of a result not yet fully read
        self._rows: list[Any] = []
        self._next = 0  # index of the next row of `_rows` to hand out
        self._closed = False
        self.description: _Description | None = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._itself().__await__()

    async def _itself(self) -> Cursor:
        return self

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _start(self, sql: str, parameters: Any, many: bool) -> None:
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed cursor.")
        previous, self._open = self._open, None  # closed in the same hand-off as the statement runs
        self._rows, self._next = [], 0
        connection = self._connection
        outcome: _Outcome = await connection._call(connection._session.run, previous, sql, parameters, many)
        self._open = outcome.cursor
        self._rows = outcome.rows
        self.description = outcome.description
        self.rowcount = outcome.rowcount
        self.lastrowid = outcome.lastrowid

    async def execute(self, sql: str, parameters: Any = None) -> Cursor:
        await self._start(sql, () if parameters is None else parameters, False)
        return self

    async def executemany(self, sql: str, parameters: Any) -> Cursor:
        await self._start(sql, parameters, True)
        return self

    async def _take(self, size: int | None) -> list[Any]:
        """Up to `size` rows (all with None): buffered ones first, then from the open result."""
        rows, start = self._rows, self._next
        if size is not None and len(rows) - start >= size:
            self._next = start + size
            return rows[start : start + size]
        taken = rows[start:] if start else rows
        self._rows, self._next = [], 0
        cursor, self._open = self._open, None  # if the fetch is cancelled, the thread closes it
        if cursor is None:
            return taken
        connection = self._connection
        outcome: _Outcome = await connection._call(
            connection._session.fetch, cursor, None if size is None else size - len(taken)
        )
        self._open = outcome.cursor
        return taken + outcome.rows if taken else outcome.rows

    async def fetchone(self) -> Any:
        if self._next < len(self._rows):
            self._next += 1
            return self._rows[self._next - 1]
        rows = await self._take(1)
        return rows[0] if rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        return await self._take(self.arraysize if size is None else size)

    async def fetchall(self) -> Sequence[Any]:
        return await self._take(None)

    async def __aiter__(self) -> AsyncIterator[Any]:
        while rows := await self._take(PREFETCH_ROWS):
            for row in rows:
                yield row

    async def close(self) -> None:
        """Closing needs a hand-off only for a result that was not read to its end."""
        self._closed = True
        self._rows, self._next = [], 0
        cursor, self._open = self._open, None
        if cursor is not None and not self._connection._closed:
            await self._connection._call(self._connection._session.close_cursor, cursor)


def _open(opened: list[_Session], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Session:
    session = _Session(args, kwargs)
    opened.append(session)
    return session


def _close_opened(opened: list[_Session]) -> None:
    for session in opened:
        session.close()


async def connect(*args: Any, **kwargs: Any) -> Connection:
    """Open `sqlite3.connect(*args, **kwargs)` on a new thread of its own. The connection is used on
    that thread only, so sqlite3's same-thread check is on, whatever `kwargs` say."""
    kwargs = {**kwargs, "check_same_thread": True}
    jobs: _Jobs = SimpleQueue()
    # A thread and a SimpleQueue of its own rather than a ThreadPoolExecutor: half the CPU per hand-off
    # (about 17 against 33 µs on the default event loop). A daemon, as SQLAlchemy makes aiosqlite's: a
    # connection's thread must not keep the process alive.
    threading.Thread(target=_work, args=(jobs,), name="sqlite-connection", daemon=True).start()
    future = asyncio.get_running_loop().create_future()
    opened: list[_Session] = []
    jobs.put((future, _open, (opened, args, kwargs)))
    try:
        session: _Session = await future
    except BaseException:  # failed, or cancelled: what opened anyway is closed, and the thread ends
        jobs.put((None, _close_opened, (opened,)))
        jobs.put(None)
        raise
    return Connection(jobs, session)


def async_creator(url: str, **connect_args: Any) -> Callable[[], Awaitable[Connection]]:
    """The `async_creator` of an engine for the `sqlite+aiosqlite` URL `url`: it opens the database as
    SQLAlchemy would (its own reading of the URL: file name, URI, query options), plus `connect_args`."""
    sa_url = make_url(url)
    args, kwargs = sa_url.get_dialect()().create_connect_args(sa_url)
    kwargs.update(connect_args)

    async def create() -> Connection:
        return await connect(*args, **kwargs)

    return create
