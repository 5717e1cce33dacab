"""The SQLite driver connection: one hand-off to the connection's thread per statement.

aiosqlite runs every sqlite3 call on the connection's own thread, and each call is a hand-off there and
back (a queue put, then a wake-up of the event loop). Through SQLAlchemy's adapter a statement made
about four: cursor creation, execute, fetchall and close, each worth tens of microseconds of CPU.

`PrefetchConnection` is an `aiosqlite.Connection` whose cursors do all of that in a single call on the
connection's thread: they create a sqlite3 cursor, execute, fetch the first `PREFETCH_ROWS` rows and
read `description`, `rowcount` and `lastrowid`; when the result ended within those rows the sqlite3
cursor is closed in the same call. Fetches then serve rows from memory and `close` needs no hand-off.
A longer result (a streamed fetch, a backup) keeps its sqlite3 cursor open and fetches the rest on the
connection's thread as asked, so memory stays bounded by what the caller asks for plus `PREFETCH_ROWS`.

Engines get it through `create_async_engine(..., async_creator=...)` (see `async_creator`), so nothing
depends on SQLAlchemy's adapter internals; the adapter sees an ordinary aiosqlite connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager
from sqlalchemy.engine import make_url

# Rows fetched with the statement itself. Results of the service's statements are mostly a handful of
# rows; a longer one costs one more hand-off per fetch the caller makes.
PREFETCH_ROWS = 256

_Description = tuple[tuple[str, None, None, None, None, None, None], ...]


class _Outcome:
    """What one call on the connection's thread brings back for a cursor."""

    __slots__ = ("cursor", "description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor, rows: list[Any], wanted: int | None) -> None:
        """Runs on the connection's thread: read the cursor's attributes, close it if the result ended
        (fewer rows than `wanted`, all rows with None, or no result at all)."""
        self.rows = rows
        self.description: _Description | None = cursor.description
        self.rowcount: int = cursor.rowcount
        self.lastrowid: int | None = cursor.lastrowid
        self.cursor: sqlite3.Cursor | None = cursor  # None once the result ended
        if wanted is None or len(rows) < wanted or self.description is None:
            cursor.close()
            self.cursor = None


def _run(
    conn: sqlite3.Connection,
    row_factory: Any,
    sql: str,
    parameters: Any,
    many: bool,
    script: bool,
) -> _Outcome:
    """Runs on the connection's thread: one statement from cursor creation to its first rows."""
    cursor = conn.cursor()
    try:
        if row_factory is not None:
            cursor.row_factory = row_factory
        if script:
            cursor.executescript(sql)
        elif many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchmany(PREFETCH_ROWS) if cursor.description is not None else []
        return _Outcome(cursor, rows, PREFETCH_ROWS)
    except BaseException:
        cursor.close()
        raise


def _fetch(cursor: sqlite3.Cursor, size: int | None) -> _Outcome:
    """Runs on the connection's thread: `size` more rows (all with None) of an open result."""
    try:
        rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
    except BaseException:
        cursor.close()
        raise
    return _Outcome(cursor, rows, size)


def _close(cursor: sqlite3.Cursor) -> None:
    cursor.close()


class PrefetchCursor(aiosqlite.Cursor):
    """An aiosqlite cursor that executes and fetches its first rows in one hand-off."""

    def __init__(self, conn: PrefetchConnection) -> None:  # no sqlite3 cursor until a statement runs
        self.iter_chunk_size = conn._iter_chunk_size
        self._conn = conn
        self._open: sqlite3.Cursor | None = None  # the sqlite3 cursor of a result not yet fully read
        self._rows: list[Any] = []
        self._description: _Description | None = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1
        self._row_factory: Any = None
        self._closed = False

    async def _call(self, fn: Callable[..., _Outcome], *args: Any) -> None:
        call: Callable[..., Awaitable[_Outcome]] = self._conn._execute
        outcome = await call(fn, *args)
        self._open = outcome.cursor
        self._rows = outcome.rows
        self._description = outcome.description
        self._rowcount = outcome.rowcount
        self._lastrowid = outcome.lastrowid

    async def _start(self, sql: str, parameters: Any, *, many: bool = False, script: bool = False) -> None:
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed cursor.")
        await self._release()
        self._rows = []
        await self._call(_run, self._conn._conn, self._row_factory, sql, parameters, many, script)

    async def _release(self) -> None:
        """Close the sqlite3 cursor of a result that was not read to its end (one hand-off)."""
        cursor, self._open = self._open, None
        if cursor is not None:
            call: Callable[..., Awaitable[None]] = self._conn._execute
            await call(_close, cursor)

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> PrefetchCursor:
        await self._start(sql, [] if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> PrefetchCursor:
        await self._start(sql, parameters, many=True)
        return self

    async def executescript(self, sql_script: str) -> PrefetchCursor:
        await self._start(sql_script, None, script=True)
        return self

    async def _take(self, size: int | None) -> list[Any]:
        """Up to `size` rows (all with None): buffered ones first, then from the open result."""
        buffered = self._rows
        if size is not None and len(buffered) >= size:
            self._rows = buffered[size:]
            return buffered[:size]
        self._rows = []
        cursor, self._open = self._open, None  # closed on the connection's thread if the fetch fails
        if cursor is None:
            return buffered
        await self._call(_fetch, cursor, None if size is None else size - len(buffered))
        more, self._rows = self._rows, []
        return buffered + more if buffered else more

    async def fetchone(self) -> Any:
        rows = await self._take(1)
        return rows[0] if rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        return await self._take(self._arraysize if size is None else size)

    async def fetchall(self) -> Sequence[Any]:
        return await self._take(None)

    async def close(self) -> None:
        self._closed = True
        self._rows = []
        await self._release()

    @property
    def description(self) -> _Description:
        return self._description  # type: ignore[return-value]  # None without a result, as in sqlite3

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    @property
    def row_factory(self) -> Any:
        return self._row_factory

    @row_factory.setter
    def row_factory(self, factory: Any) -> None:
        self._row_factory = factory

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn._conn


class PrefetchConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors are `PrefetchCursor`s."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int = 64) -> None:
        super().__init__(connector, iter_chunk_size)
        # As SQLAlchemy does for the connections it opens itself: the connection's thread must not
        # keep the process alive (before aiosqlite 0.22 the connection was that thread).
        thread: Any = getattr(self, "_thread", self)
        thread.daemon = True

    @contextmanager
    async def cursor(self) -> aiosqlite.Cursor:
        return PrefetchCursor(self)

    @contextmanager
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> aiosqlite.Cursor:
        return await PrefetchCursor(self).execute(sql, parameters)

    @contextmanager
    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> aiosqlite.Cursor:
        return await PrefetchCursor(self).executemany(sql, parameters)

    @contextmanager
    async def executescript(self, sql_script: str) -> aiosqlite.Cursor:
        return await PrefetchCursor(self).executescript(sql_script)


def async_creator(url: str, **connect_args: Any) -> Callable[[], Awaitable[PrefetchConnection]]:
    """The `async_creator` of an engine for the `sqlite+aiosqlite` URL `url`: it opens the database as
    SQLAlchemy would (its own reading of the URL: file name, URI, query options), plus `connect_args`."""
    sa_url = make_url(url)
    args, kwargs = sa_url.get_dialect()().create_connect_args(sa_url)
    kwargs.update(connect_args)

    connect: Callable[..., sqlite3.Connection] = sqlite3.connect

    async def create() -> PrefetchConnection:
        connection = PrefetchConnection(lambda: connect(*args, **kwargs))
        await connection
        return connection

    return create
