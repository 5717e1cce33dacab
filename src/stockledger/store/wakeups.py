"""Wake-ups across processes: commits that give the webhook dispatchers work reach every dispatcher,
so an idle dispatcher need not poll the outbox.

PostgreSQL: after a transaction that appended outbox events (or queued a redelivery) commits, its
process sends `NOTIFY stockledger_outbox` on a connection kept for it (`Notifier`, owned by the
`Database`). Each dispatcher holds a connection that LISTENs on the channel (`Listener`) and starts a
pass when a notification comes; the payload names the sending process, whose own dispatchers were
already woken in-process and ignore it.

Why after the commit rather than inside the transaction: when a transaction that notified commits,
PostgreSQL takes a lock of the whole database and holds it through the commit's WAL flush, so such
transactions commit one at a time (measured here with pgbench at concurrency 16: 1,800–2,100 instead
of 7,900–9,700 one-row commits per second; docs/performance.md, "Idle"). Writes of different
organizations would queue behind each other for a wake-up. Sent after the commit, a notification
is a transaction of its own, without a flush (`synchronous_commit` off: a lost notification costs
nothing the safety poll does not recover); those wanted while one is being sent are folded into the
next, at most one every NOTIFY_GAP_S. A listener therefore never hears of a commit before its rows
are visible. What no notification
reaches — a process that died between its commit and its notification, a listener whose connection
was down — the dispatchers' safety poll finds.

SQLite has no notifications. A connection's `PRAGMA data_version` changes whenever another
connection, of any process, has committed: each dispatcher reads it on a connection of its own every
WATCH_INTERVAL_S (`ChangeWatcher`; ~30 µs of CPU, against ~850 µs for a look at the outbox) and
starts a pass when it changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from stockledger.store import sqlite_driver
from stockledger.store.unit_of_work import Hook

log = logging.getLogger("stockledger.wakeups")

CHANNEL = "stockledger_outbox"
# Notifications of one process are at least this far apart (the ones wanted meanwhile are folded into
# the next): a dispatcher starts a pass at most every 20 ms, more would only wake it for nothing.
NOTIFY_GAP_S = 0.01
# Reopening a lost connection: the first attempt after RECONNECT_MIN_S, then twice as long each
# time up to RECONNECT_MAX_S (jittered, so many processes do not all come back at once).
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 30.0
# A listening connection that only receives cannot tell a half-open TCP connection from a quiet
# channel: it asks the server this often, and gives it this long to answer.
LIVENESS_CHECK_S = 15.0
LIVENESS_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0  # how long closing waits for a notification still to be sent
# SQLite: how often a dispatcher reads the change counter. Commits of other processes are found this
# fast, as when every dispatcher polled the outbox so often.
WATCH_INTERVAL_S = 0.1


def wake_up_engine(url: str) -> AsyncEngine:
    """An engine whose connections are opened for one holder and closed with it: the URL's every
    option (host, TLS, ...) applies, and no pool keeps a connection this module gave up on."""
    if url.startswith("sqlite"):
        # autocommit: a statement outside a transaction sees every commit made before it
        creator = sqlite_driver.async_creator(url, isolation_level=None)
        return create_async_engine(url, poolclass=NullPool, async_creator=creator)
    return create_async_engine(url, poolclass=NullPool)


class _Connection:
    """One connection kept for wake-ups: opened on demand, thrown away after an error."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self.driver: Any = None  # the driver's connection (asyncpg, or store/sqlite_driver.py)

    async def open(self) -> Any:
        if self.driver is None:
            conn = await self.engine.connect()
            try:
                self.driver = (await conn.get_raw_connection()).driver_connection
            except BaseException:
                await conn.close()
                raise
            self._conn = conn
        return self.driver

    async def discard(self) -> None:
        conn, self._conn, self.driver = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()


def _backoff(delay_s: float) -> tuple[float, float]:
    """How long to wait now (jittered) and the delay after that."""
    return random.uniform(delay_s / 2, delay_s), min(delay_s * 2, RECONNECT_MAX_S)


class Notifier:
    """Sends the notification after commits that give the dispatchers work; `poke()` never waits."""

    def __init__(self, engine: AsyncEngine, sender: str) -> None:
        self._link = _Connection(engine)
        # One round trip. Its commit need not wait for the disk (a notification is worth nothing
        # after a crash); SET LOCAL, so that a pooler handing the connection on passes nothing on.
        self._statement = f"BEGIN; SET LOCAL synchronous_commit TO off; NOTIFY {CHANNEL}, '{sender}'; COMMIT"
        self._due = False
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """Notify the channel soon (at once unless a notification was just sent)."""
        self._due = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._send(), name="stockledger-notify")

    async def _send(self) -> None:
        delay_s = RECONNECT_MIN_S
        failing = False  # log each outage once, not each failed attempt
        while self._due:
            self._due = False
            kept = self._link.driver is not None
            try:
                driver = await self._link.open()
                await driver.execute(self._statement)
            except Exception as exc:  # the database went away (restart, failover): keep trying
                await self._link.discard()
                self._due = True  # meanwhile the dispatchers' safety poll finds the events
                if kept:
                    continue  # a connection closed while idle: a new one, at once
                if not failing:
                    log.warning(
                        "cannot notify the webhook dispatchers, trying again", extra={"error": str(exc)}
                    )
                failing = True
                pause_s, delay_s = _backoff(delay_s)
                await asyncio.sleep(pause_s)
                continue
            if failing:
                log.info("notifying the webhook dispatchers again")
            failing, delay_s = False, RECONNECT_MIN_S
            await asyncio.sleep(NOTIFY_GAP_S)

    async def close(self) -> None:
        """Send the notification still due (a command that commits and exits at once must still
        wake the dispatchers), then close the connection."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._task), CLOSE_TIMEOUT_S)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._link.discard()


class Listener:
    """LISTENs on the channel over a connection of its own until cancelled (`run()`), reopening it
    with backoff when it is lost. Calls `on_notify` for each notification of another process and
    `on_change(listening)` whenever notifications start or stop being heard (a dispatcher polls
    fast while they are not)."""

    def __init__(
        self, engine: AsyncEngine, own_sender: str, on_notify: Hook, on_change: Callable[[bool], None]
    ) -> None:
        self._link = _Connection(engine)
        self._own_sender = own_sender
        self._on_notify = on_notify
        self._on_change = on_change
        self.listening = False

    def _set_listening(self, listening: bool) -> None:
        if listening != self.listening:
            self.listening = listening
            self._on_change(listening)

    def _notified(self, _conn: Any, _pid: int, _channel: str, sender: str) -> None:
        if sender != self._own_sender:
            self._on_notify()

    async def run(self) -> None:
        delay_s = RECONNECT_MIN_S
        outage = False  # an outage was logged and has not ended: log each one once
        try:
            while True:
                error = ""
                try:
                    await self._listen_until_lost(back_from_outage=outage)
                except Exception as exc:  # the database went away (restart, failover): keep trying
                    error = str(exc)
                if self.listening:  # it was up: a new outage, its backoff starts afresh
                    outage, delay_s = False, RECONNECT_MIN_S
                if not outage:
                    log.warning(
                        "not listening for webhook wake-ups; dispatching polls until the connection is back",
                        extra={"error": error},
                    )
                    outage = True
                await self._link.discard()
                self._set_listening(False)
                pause_s, delay_s = _backoff(delay_s)
                await asyncio.sleep(pause_s)
        finally:  # cancelled: whoever listened is stopping, nothing to tell
            self.listening = False
            await self._link.discard()

    async def _listen_until_lost(self, *, back_from_outage: bool) -> None:
        """LISTEN, then return when the connection is closed (or raise when it fails)."""
        driver = await self._link.open()
        lost = asyncio.Event()
        driver.add_termination_listener(lambda _conn: lost.set())
        await driver.add_listener(CHANNEL, self._notified)
        if back_from_outage:
            log.info("listening for webhook wake-ups again")
        self._set_listening(True)
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LIVENESS_CHECK_S):
                    await lost.wait()
            if not lost.is_set():
                async with asyncio.timeout(LIVENESS_TIMEOUT_S):
                    await driver.execute("SELECT 1")


class ChangeWatcher:
    """SQLite: reads `PRAGMA data_version` every WATCH_INTERVAL_S until cancelled (`run()`) and
    calls `on_notify` when another connection committed since the last reading. `on_change` as for
    `Listener`: true once the counter is being read, false while it cannot be."""

    def __init__(self, engine: AsyncEngine, on_notify: Hook, on_change: Callable[[bool], None]) -> None:
        self._link = _Connection(engine)
        self._on_notify = on_notify
        self._on_change = on_change
        self.listening = False

    async def _read(self) -> int:
        cursor = await (await self._link.open()).execute("PRAGMA data_version")
        try:
            rows = await cursor.fetchall()
        finally:
            await cursor.close()
        return int(rows[0][0])

    async def run(self) -> None:
        last: int | None = None
        failing = False
        try:
            while True:
                try:
                    version = await self._read()
                except Exception:  # a file system error: poll the outbox meanwhile, try again
                    if not failing:
                        log.exception("cannot watch the database for webhook wake-ups")
                    failing = True
                    await self._link.discard()
                    if self.listening:
                        self.listening = False
                        self._on_change(False)
                else:
                    failing = False
                    if not self.listening:
                        self.listening = True
                        self._on_change(True)  # the caller looks for work at once
                    elif version != last:
                        self._on_notify()
                    last = version
                await asyncio.sleep(WATCH_INTERVAL_S)
        finally:  # cancelled: whoever listened is stopping, nothing to tell
            self.listening = False
            await self._link.discard()


def new_sender_id() -> str:
    """What a process's notifications carry so that its own dispatchers can ignore them."""
    return uuid.uuid4().hex
