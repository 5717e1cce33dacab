"""Database access: engines for SQLite and PostgreSQL, and one-transaction-per-use-case helpers.

Writes on SQLite run under `BEGIN IMMEDIATE` on a single pooled connection, so writers queue
instead of failing; on PostgreSQL they run at READ COMMITTED and take row locks explicitly.
Transient conflicts (deadlock, serialization failure, SQLite busy) are retried here, so they
never reach a client.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from stockledger.private_files import private_sqlite_file
from stockledger.store import sqlite_driver
from stockledger.store.side_reads import SideReader

T = TypeVar("T")
log = logging.getLogger("stockledger.db")

MAX_TRANSACTION_ATTEMPTS = 8  # transient conflicts are rare; 8 attempts with backoff is ample
SQLITE_BUSY_TIMEOUT_MS = 30_000

Work = Callable[[AsyncConnection], Awaitable[T]]


class WriteClaim(Protocol):
    """What a request's writes must claim in their own transaction (an Idempotency-Key)."""

    claimed: bool  # committed with a write
    taken: bool  # another request holds it

    def wrap(self, work: Work[T]) -> Work[T]:
        """`work` preceded by the claim, for a transaction of this request alone."""
        ...

    async def claim_locked(self, conn: AsyncConnection) -> bool:
        """Claim inside a transaction that already holds the organization lock; False when taken."""
        ...


# Set per request by the idempotency layer, so an Idempotency-Key is claimed in the same transaction
# as the effect it guards (service/idempotency.py). `Database.write` wraps the request's writes with
# it; PUTs, which may share a transaction (service/write_queue.py), are claimed one by one by
# service/posting.py.
write_claim: contextvars.ContextVar[WriteClaim | None] = contextvars.ContextVar("write_claim", default=None)


_AFTER_COMMIT = "stockledger.after_commit"


def after_commit(conn: AsyncConnection, hook: Callable[[], None]) -> None:
    """Run `hook` once the current transaction has committed (never if it rolls back or is retried)."""
    conn.info[_AFTER_COMMIT].append(hook)


# The after-commit hooks of the transaction the current task runs in (`Database.write` / `read`).
_current_hooks: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "after_commit_hooks", default=None
)


def after_commit_here(hook: Callable[[], None]) -> bool:
    """Like `after_commit`, for code that has no connection at hand: runs `hook` (once, however often
    it is registered) after the transaction this task is running in commits. False, and nothing is
    registered, outside a transaction."""
    hooks = _current_hooks.get()
    if hooks is None:
        return False
    if hook not in hooks:
        hooks.append(hook)
    return True


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
    """Owns the engines. `write(fn)` and `read(fn)` run `fn` in one transaction and return its value."""

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.known_orgs: set[str] = set()  # organizations whose system locations exist
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

    async def write(self, work: Work[T]) -> T:
        """Run `work` in one write transaction, retrying transient conflicts from the start."""
        return await self.write_claimed(work, write_claim.get())

    async def write_claimed(self, work: Work[T], claim: WriteClaim | None) -> T:
        """`write` with the request's claim given explicitly (whatever the context holds)."""
        return await self._run(self.write_engine, claim.wrap(work) if claim is not None else work)

    async def read(self, work: Work[T]) -> T:
        """Run `work` in one read transaction."""
        return await self._run(self.read_engine, work)

    async def _run(self, engine: AsyncEngine, work: Work[T]) -> T:
        for attempt in range(1, MAX_TRANSACTION_ATTEMPTS + 1):
            try:
                async with engine.begin() as conn:
                    # Hooks of an attempt that rolls back are dropped with it.
                    hooks: list[Callable[[], None]] = []
                    conn.info[_AFTER_COMMIT] = hooks
                    token = _current_hooks.set(hooks)
                    try:
                        result = await work(conn)
                    finally:
                        _current_hooks.reset(token)
                for hook in hooks:
                    hook()
                return result
            except (DBAPIError, OperationalError) as exc:
                if not is_transient(exc) or attempt == MAX_TRANSACTION_ATTEMPTS:
                    raise
                log.info("transient database conflict, retrying", extra={"attempt": attempt})
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # jittered backoff
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        if self._side_reader is not None:
            await self._side_reader.close()
            self._side_reader = None
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
