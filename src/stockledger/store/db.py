"""Database access: engines for SQLite and PostgreSQL, and one-transaction-per-use-case helpers.

Writes on SQLite run under `BEGIN IMMEDIATE` on a single pooled connection, so writers queue
instead of failing; on PostgreSQL they run at READ COMMITTED and take row locks explicitly.
Transient conflicts (deadlock, serialization failure, SQLite busy) are retried here, so they
never reach a client.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from cachetools import LRUCache
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from stockledger.private_files import private_sqlite_file
from stockledger.store import sqlite_driver
from stockledger.store.side_reads import SideReader
from stockledger.store.unit_of_work import Hook, UnitOfWork, WriteClaim
from stockledger.store.wakeups import ChangeWatcher, Listener, Notifier, new_sender_id, wake_up_engine
from stockledger.store.write_queue import WriteQueues

T = TypeVar("T")
log = logging.getLogger("stockledger.db")

MAX_TRANSACTION_ATTEMPTS = 8  # transient conflicts are rare; 8 attempts with backoff is ample
SQLITE_BUSY_TIMEOUT_MS = 30_000

KNOWN_ORGS_CACHED = 10_000  # organizations remembered as existing; least recently used are dropped

Work = Callable[[AsyncConnection], Awaitable[T]]
UnitWork = Callable[[UnitOfWork], Awaitable[T]]


def prepare_sqlite_file(url: str) -> None:
    """Before the first connection to a SQLite URL: the file exists, private (0600, its directory
    0700 when created here), as do its -wal and -shm files, which SQLite creates with its mode."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        private_sqlite_file(Path(path))


DEFAULT_POOL_SIZE = 20  # connections kept by one server process (as many again may overflow)
SQLITE_READ_POOL_SIZE = 4  # read connections of one process on SQLite (WAL: readers never block the writer)


def pool_size_for(workers: int) -> int:
    """Pool size of one of `workers` server processes: together they keep what one process would,
    so `serve --workers N` never opens N times the connections (PostgreSQL's max_connections is 100
    by default, shared with everything else on that server)."""
    return max(4, DEFAULT_POOL_SIZE // max(1, workers))


def is_transient(exc: BaseException) -> bool:
    """Deadlock / serialization failure (PostgreSQL) or database locked (SQLite)."""
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
        if code in {"40001", "40P01"}:
            return True
        text = str(orig).lower()
        if "deadlock detected" in text or "could not serialize" in text or "database is locked" in text:
            return True
    return False


class Database:
    """Owns the engines. `unit_of_work(fn)`, `write(fn)` and `read(fn)` run `fn` in one transaction
    and return its value. Also owns what this process keeps per database: the organizations known to
    exist, the write queues, and who to wake when outbox events commit (in this process, and on
    PostgreSQL in every process: store/wakeups.py)."""

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # Organizations whose system locations exist: only skips a no-op insert, so bounded.
        self.known_orgs: LRUCache[str, bool] = LRUCache(maxsize=KNOWN_ORGS_CACHED)
        self.queues = WriteQueues()  # writes of one organization wait here (store/write_queue.py)
        # Called after every commit that appended outbox events (the dispatchers of this process
        # subscribe while they run, see `listen_for_events`).
        self._event_listeners: set[Hook] = set()
        # PostgreSQL: the notifications that wake the dispatchers of other processes, sent after such
        # commits, and what tells this process's own apart (store/wakeups.py).
        self.sender_id = new_sender_id()
        self._wake_up_engine: AsyncEngine | None = None
        self._notifier: Notifier | None = None
        if self.is_sqlite:
            prepare_sqlite_file(url)
            self.write_engine = self._sqlite_engine(url, immediate=True, pool_size=1)
            self.read_engine = self._sqlite_engine(url, immediate=False, pool_size=SQLITE_READ_POOL_SIZE)
        else:
            self.write_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False
            )
            self.read_engine = self.write_engine
        self._side_reader: SideReader | None = None

    def side_reader(self) -> SideReader:
        """The connection of this database kept for single-statement reads outside transactions
        (one more connection per process, opened on first use)."""
        if self._side_reader is None:
            engine = (
                self._sqlite_engine(self.url, immediate=False, pool_size=1)
                if self.is_sqlite
                else create_async_engine(self.url, pool_size=1, max_overflow=0)
            )
            self._side_reader = SideReader(engine)
        return self._side_reader

    @staticmethod
    def _sqlite_engine(url: str, *, immediate: bool, pool_size: int) -> AsyncEngine:
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=300,
            # One hand-off to the connection's thread per statement (see sqlite_driver). Without an
            # isolation level sqlite3 opens no transaction of its own: BEGIN IMMEDIATE is ours to emit.
            async_creator=sqlite_driver.async_creator(
                url, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None
            ),
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    def listen_for_events(self, listener: Hook) -> None:
        """Call `listener` after every transaction of this database that appended outbox events
        commits (until `unlisten_for_events`)."""
        self._event_listeners.add(listener)

    def unlisten_for_events(self, listener: Hook) -> None:
        self._event_listeners.discard(listener)

    def listener_across_processes(
        self, on_notify: Hook, on_change: Callable[[bool], None]
    ) -> Listener | ChangeWatcher:
        """What wakes a dispatcher when another process commits (run it as a task until the
        dispatcher stops): on PostgreSQL a `Listener`, called after every commit of another process
        that gave the dispatchers work; on SQLite a `ChangeWatcher`, after any commit of another
        connection. `on_change(listening)` when it starts or stops hearing them (store/wakeups.py)."""
        if self.is_sqlite:
            return ChangeWatcher(self._wake_ups(), on_notify, on_change)
        return Listener(self._wake_ups(), self.sender_id, on_notify, on_change)

    def _wake_ups(self) -> AsyncEngine:
        if self._wake_up_engine is None:
            self._wake_up_engine = wake_up_engine(self.url)
        return self._wake_up_engine

    def _events_committed(self) -> None:
        for listener in tuple(self._event_listeners):
            listener()
        if not self.is_sqlite:
            if self._notifier is None:
                self._notifier = Notifier(self._wake_ups(), self.sender_id)
            self._notifier.poke()

    async def unit_of_work(self, work: UnitWork[T], *, claim: WriteClaim | None = None) -> T:
        """Run `work(uow)` in one write transaction, retrying transient conflicts from the start with a
        new unit of work. `claim`: the request's Idempotency-Key, claimed first in the same transaction."""
        return await self._run(self.write_engine, work, claim)

    async def write(self, work: Work[T], *, claim: WriteClaim | None = None) -> T:
        """`unit_of_work` for work that needs only the connection (no events, no after-commit hooks)."""
        return await self._run(self.write_engine, lambda uow: work(uow.conn), claim)

    async def read(self, work: Work[T]) -> T:
        """Run `work` in one read transaction."""
        return await self._run(self.read_engine, lambda uow: work(uow.conn), None)

    async def _run(self, engine: AsyncEngine, work: UnitWork[T], claim: WriteClaim | None) -> T:
        for attempt in range(1, MAX_TRANSACTION_ATTEMPTS + 1):
            try:
                async with engine.begin() as conn:
                    # One unit per attempt: the hooks of an attempt that rolls back are dropped with it.
                    uow = UnitOfWork(conn)
                    if claim is not None:
                        await claim.claim_first(uow)
                    result = await work(uow)
                for hook in uow.hooks:
                    hook()
                if uow.wakes_dispatchers:
                    self._events_committed()
                return result
            except (DBAPIError, OperationalError) as exc:
                if not is_transient(exc) or attempt == MAX_TRANSACTION_ATTEMPTS:
                    raise
                log.info("transient database conflict, retrying", extra={"attempt": attempt})
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # jittered backoff
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        if self._notifier is not None:
            await self._notifier.close()
            self._notifier = None
        if self._wake_up_engine is not None:
            await self._wake_up_engine.dispose()
            self._wake_up_engine = None
        if self._side_reader is not None:
            await self._side_reader.close()
            self._side_reader = None
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
