"""The write path's busiest statements, sent straight to the database driver inside the transaction.

SQLAlchemy's way to a statement (cache key, execution context, the asyncio adapter's greenlet switch,
the result object) costs about 70-100 µs of CPU per statement on this service's machines; the
driver alone about 15 (asyncpg) to 25 (store/sqlite_driver.py, one hand-off). A one-change PUT runs
four statements under the organization lock, so the ones that every movement write runs (the
prelude, the balance upsert, the ledger and outbox inserts) come here: each is written once per
database, in that database's SQL and placeholders (`Sql`), and never compiled at run time.

The transaction stays SQLAlchemy's: `Database` begins, commits and rolls it back as for any other
statement. A statement here runs only inside it, never on its own: SQLite's opens with BEGIN
IMMEDIATE, PostgreSQL's with its first SQLAlchemy statement (every write path takes the organization
lock that way first; otherwise a `SELECT 1` through SQLAlchemy opens it), and without a transaction
the call fails. Driver errors are
raised as SQLAlchemy's `DBAPIError` with the driver's exception as `orig`, so retries
(`store.db.is_transient`) and the batch fallback treat them like any other statement's. SQLAlchemy's
events do not see these statements: `observe` does (the statement-count tests use it).
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

Row = Sequence[Any]
Observer = Callable[[str], None]

_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.Error)
_observers: weakref.WeakKeyDictionary[Engine, list[Observer]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Sql:
    """One statement in each database's words: asyncpg's `$1, $2, …` placeholders, sqlite3's `?`."""

    postgresql: str
    sqlite: str


def is_postgresql(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def text_list(conn: AsyncConnection, values: Sequence[str]) -> Any:
    """A list of strings as one parameter: an array on PostgreSQL (`= ANY($n::varchar[])`), JSON text
    on SQLite (`IN (SELECT value FROM json_each(?))`), so a statement has one form whatever the count."""
    return list(values) if is_postgresql(conn) else orjson.dumps(list(values)).decode()


async def fetch(conn: AsyncConnection, sql: Sql, params: Sequence[Any]) -> list[Row]:
    """Every row of one statement, run by the driver in `conn`'s open transaction."""
    return await _run(conn, sql, params, many=False)


async def fetch_each(conn: AsyncConnection, sqlite: str, param_sets: Sequence[Sequence[Any]]) -> list[Row]:
    """SQLite only (PostgreSQL takes one statement over arrays): the statement once per parameter
    set, in order, in one hand-off; all their rows."""
    return await _run(conn, Sql("", sqlite), param_sets, many=True)


async def execute_many(conn: AsyncConnection, sqlite: str, param_sets: Sequence[Sequence[Any]]) -> None:
    """SQLite only (PostgreSQL takes one statement over arrays): the statement, without a result,
    once per parameter set, in one hand-off."""
    await _run(conn, Sql("", sqlite), param_sets, many=True, rows=False)


async def _run(conn: AsyncConnection, sql: Sql, params: Any, *, many: bool, rows: bool = True) -> list[Row]:
    postgresql = is_postgresql(conn)
    assert not (many and postgresql), "PostgreSQL takes one statement over arrays instead"
    text = sql.postgresql if postgresql else sql.sqlite
    for observer in _observers.get(conn.sync_engine, ()):
        observer(text)
    if not conn.in_transaction():
        raise RuntimeError("driver-level statements run only inside a transaction")
    driver: Any = (await conn.get_raw_connection()).driver_connection
    if postgresql and not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN with the transaction's first statement: have it
        # send one (the write paths take the organization lock first, so they never get here).
        await conn.exec_driver_sql("SELECT 1")
    try:
        if postgresql:
            if not driver.is_in_transaction():  # e.g. an AUTOCOMMIT connection
                raise asyncpg.InterfaceError("driver-level statements run only inside a transaction")
            found: list[Row] = await driver.fetch(text, *params)
            return found
        return list(await driver.run_in_transaction(text, params, many=many, rows=rows))
    except _DRIVER_ERRORS as exc:
        raise DBAPIError(text, params, exc) from exc


def observe(engine: Engine, observer: Observer) -> Callable[[], None]:
    """Call `observer` with the text of every statement sent here on the engine's connections; returns
    the function that stops it."""
    observers = _observers.setdefault(engine, [])
    observers.append(observer)
    return lambda: observers.remove(observer)
