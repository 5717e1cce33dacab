"""An idle dispatcher does not poll: commits wake it (from any process: on PostgreSQL by LISTEN/NOTIFY
sent after the commit, on SQLite through the change counter), it sleeps until the next retry is due,
and a slow safety poll covers the rest.

Every dispatcher here has a safety poll of 30 s: a delivery within a second or two can only come from
a wake-up or from the retry time it computed."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from stockledger.events.delivery import Deliverer
from stockledger.events.dispatcher import Dispatcher
from stockledger.store import outbox, wakeups
from stockledger.store.db import Database
from stockledger.store.unit_of_work import UnitOfWork
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks
from tests.webhook_receiver import running_receiver

ROOT = Path(__file__).parents[2]
LONG_POLL_S = 30.0
EVENT = "InventoryTrackingStarted"


def _dispatcher(db: Database, **options: Any) -> Dispatcher:
    return Dispatcher(db, Deliverer(allow_private=True), safety_poll_s=LONG_POLL_S, **options)


async def _until(condition: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def _running(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    """Started, and listening across processes where there is such a thing."""
    dispatcher.start()
    try:
        await _until(lambda: dispatcher._hears_commits)
        await asyncio.sleep(0.2)  # the pass that follows a connection coming up has run
        yield dispatcher
    finally:
        await dispatcher.stop()


async def _append_event(db: Database, org: str) -> None:
    """One event committed through `db` (another `Database` stands for another process)."""

    async def emit(uow: UnitOfWork) -> None:
        await outbox.append(uow, org, EVENT, {"productUuid": new_uuid()}, int(time.time() * 1000))

    await db.unit_of_work(emit)


@contextmanager
def _statements(engine: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def _asyncpg_url(db: Database) -> str:
    return db.url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_an_idle_dispatcher_runs_no_pass_until_something_wakes_it(db: Database) -> None:
    async with _running(_dispatcher(db)):
        with _statements(db.read_engine) as reads, _statements(db.write_engine) as writes:
            await asyncio.sleep(1.0)  # ten passes when every dispatcher polled each 100 ms
    assert reads == [] and writes == []


async def test_a_commit_of_another_process_reaches_a_dispatcher_within_a_second(
    api: Api, hooks: Hooks, db: Database, database_url: str, tmp_path: Path
) -> None:
    """PostgreSQL: the other process's notification wakes it; SQLite: the change counter."""
    dispatcher = _dispatcher(db)
    async with running_receiver() as receiver, _running(dispatcher):
        await hooks.subscribe(api, receiver, [EVENT])
        for _ in range(2):
            committed = subprocess.run(
                [sys.executable, "-c", _COMMIT_IN_ANOTHER_PROCESS, db.url, api.org],
                cwd=ROOT,
                env={**os.environ, "STOCKLEDGER_DATA_DIR": str(tmp_path)},
                check=True,
                capture_output=True,
                text=True,
                timeout=60,
            )
            committed_s = float(committed.stdout)  # its clock: the child's start-up does not count
            received = await receiver.wait_for(len(receiver.events()) + 1, timeout_s=10)
            assert received[-1].arrived_s - committed_s < 1.0
            assert received[-1].json()["organizationUuid"] == api.org


_COMMIT_IN_ANOTHER_PROCESS = """
import asyncio, sys, time, uuid
from stockledger.store import outbox
from stockledger.store.db import Database

async def main(url, org):
    db = Database(url)
    async def emit(uow):
        await outbox.append(uow, org, "InventoryTrackingStarted", {"productUuid": str(uuid.uuid4())},
                            int(time.time() * 1000))
    await db.unit_of_work(emit)
    committed = time.monotonic()  # CLOCK_MONOTONIC: the test process reads the same clock
    await db.dispose()  # sends the notification still due
    print(committed)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_a_commit_through_another_database_wakes_a_listening_dispatcher(
    api: Api, hooks: Hooks, db: Database
) -> None:
    other = Database(db.url)  # its own connections and sender: the dispatcher's process is not told
    try:
        async with running_receiver() as receiver, _running(_dispatcher(db)):
            await hooks.subscribe(api, receiver, [EVENT])
            started = time.perf_counter()
            await _append_event(other, api.org)
            await receiver.wait_for(1, timeout_s=5)
            assert time.perf_counter() - started < 1.0
    finally:
        await other.dispose()


@pytest.mark.postgres_only
async def test_a_lost_listening_connection_is_reopened_and_deliveries_still_arrive_at_once(
    api: Api, hooks: Hooks, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="stockledger.wakeups")
    other = Database(db.url)
    admin = await asyncpg.connect(_asyncpg_url(db))
    try:
        async with running_receiver() as receiver, _running(_dispatcher(db)) as dispatcher:
            await hooks.subscribe(api, receiver, [EVENT])
            cut = await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            )
            assert len(cut) == 1
            await _until(lambda: not dispatcher._hears_commits, timeout_s=5)
            # While it is down the dispatcher polls fast: an event committed now is not delayed.
            started = time.perf_counter()
            await _append_event(other, api.org)
            await receiver.wait_for(1, timeout_s=5)
            assert time.perf_counter() - started < 1.0

            await _until(lambda: dispatcher._hears_commits, timeout_s=10)  # reconnected
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            await _append_event(other, api.org)
            await receiver.wait_for(2, timeout_s=5)
            assert time.perf_counter() - started < 1.0
    finally:
        await admin.close()
        await other.dispose()
    told = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "stockledger.wakeups"]
    assert told == [
        (
            logging.WARNING,
            "not listening for webhook wake-ups; dispatching polls until the connection is back",
        ),
        (logging.INFO, "listening for webhook wake-ups again"),
    ]


async def test_a_scheduled_retry_is_attempted_on_time_with_a_long_safety_poll(
    api: Api, hooks: Hooks, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("stockledger.events.group_delivery.retry_delay_s", lambda _failures: 1)
    # request 1 is the subscription's TestMessage, request 2 the event's first attempt
    async with running_receiver(status_for=lambda n: 500 if n == 2 else 200) as receiver:
        await hooks.subscribe(api, receiver, [EVENT])
        async with _running(_dispatcher(db)):
            await api.track(new_uuid())
            first, retry = await receiver.wait_for(2, timeout_s=5)
    assert first.body == retry.body
    assert 0.9 <= retry.arrived_s - first.arrived_s < 2.0


class _Notifications:
    """The notifications of the wake-up channel, heard on a connection of the test's own."""

    def __init__(self) -> None:
        self.heard: list[tuple[float, str]] = []

    def __call__(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.heard.append((time.perf_counter(), payload))

    async def settled(self) -> list[str]:
        """What has been heard once nothing more is on its way."""
        await asyncio.sleep(0.3)
        return [payload for _at, payload in self.heard]


@asynccontextmanager
async def _listening(db: Database) -> AsyncIterator[_Notifications]:
    notifications = _Notifications()
    conn = await asyncpg.connect(_asyncpg_url(db))
    try:
        await conn.add_listener(wakeups.CHANNEL, notifications)
        yield notifications
    finally:
        await conn.close()


@pytest.mark.postgres_only
async def test_a_commit_that_gives_dispatchers_work_is_announced_once_after_it_and_nothing_else_is(
    api: Api, hooks: Hooks, db: Database
) -> None:
    async def two_events(uow: UnitOfWork) -> None:
        for _ in range(2):
            await outbox.append(uow, api.org, EVENT, {}, 1_700_000_000_000)

    async def rejected(uow: UnitOfWork) -> None:
        await two_events(uow)
        raise ValueError("rejected")

    async def quiet(uow: UnitOfWork) -> None:
        await uow.conn.exec_driver_sql("SELECT 1")

    async with _listening(db) as notifications:
        await notifications.settled()
        notifications.heard.clear()
        with _statements(db.write_engine) as written:
            await db.unit_of_work(two_events)
        assert await notifications.settled() == [db.sender_id]
        # not inside the transaction: NOTIFY there would make such commits wait for each other
        assert not [s for s in written if "notify" in s.lower()]

        notifications.heard.clear()
        await db.unit_of_work(quiet)
        await db.write(lambda conn: conn.exec_driver_sql("SELECT 1"))
        with pytest.raises(ValueError, match="rejected"):
            await db.unit_of_work(rejected)
        assert await notifications.settled() == []

        locations = await api.locations()
        assert await notifications.settled() == []  # creating the organization sends no event
        product = new_uuid()
        await api.track(product)
        assert await notifications.settled() == [db.sender_id]
        notifications.heard.clear()
        response = await api.move(product, new_uuid(), locations["SUPPLIER"], locations["STORE"], 1)
        assert response.status_code == 200, response.text
        assert await notifications.settled() == [db.sender_id]

        async with running_receiver() as receiver:
            sub = await hooks.subscribe(api, receiver, [EVENT])
            await hooks.dispatcher.drain()
            (logged, *_rest) = await hooks.log(api, sub["uuid"])
            notifications.heard.clear()
            redelivered = await api.post(
                f"/organizations/self/subscriptions/{sub['uuid']}/deliveries/{logged['messageUuid']}/redeliver"
            )
            assert redelivered.status_code == 202, redelivered.text
            assert await notifications.settled() == [db.sender_id]


@pytest.mark.postgres_only
async def test_commits_at_once_share_notifications_and_the_last_comes_after_the_last_commit(
    api: Api, db: Database
) -> None:
    commits = 20
    committed_at: list[float] = []

    async def emit(uow: UnitOfWork) -> None:
        await outbox.append(uow, api.org, EVENT, {}, 1_700_000_000_000)
        uow.after_commit(lambda: committed_at.append(time.perf_counter()))

    async with _listening(db) as notifications:
        await notifications.settled()
        notifications.heard.clear()
        await asyncio.gather(*(db.unit_of_work(emit) for _ in range(commits)))
        heard = await notifications.settled()
    assert 1 <= len(heard) < commits
    assert notifications.heard[-1][0] > max(committed_at)


async def test_a_stopped_dispatcher_holds_no_listening_connection(db: Database) -> None:
    async with _running(_dispatcher(db)) as dispatcher:
        pass
    assert dispatcher._task is None
    if not db.is_sqlite:
        admin = await asyncpg.connect(_asyncpg_url(db))
        try:
            listening = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert listening == 0


async def test_while_sending_another_process_commit_adds_no_pass_of_its_own(db: Database) -> None:
    """Under load the busy poll and the ends of groups already bring passes: a notification does
    not add one (it would cost CPU and deliver nothing sooner)."""
    dispatcher = _dispatcher(db)
    dispatcher._heard()
    assert dispatcher._wake.is_set()
    dispatcher._wake.clear()
    sending = asyncio.create_task(asyncio.sleep(10))
    dispatcher._in_flight.add(sending)  # type: ignore[arg-type]
    try:
        dispatcher._heard()
        assert not dispatcher._wake.is_set()
    finally:
        sending.cancel()


@pytest.mark.postgres_only
async def test_a_notifying_connection_closed_while_idle_is_replaced_at_once(
    api: Api, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="stockledger.wakeups")
    admin = await asyncpg.connect(_asyncpg_url(db))
    try:
        async with _listening(db) as notifications:
            await _append_event(db, api.org)  # the notifying connection is open from now on
            await notifications.settled()
            cut = await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE '%NOTIFY " + wakeups.CHANNEL + "%' AND pid <> pg_backend_pid()"
            )
            assert len(cut) == 1
            notifications.heard.clear()
            committed = time.perf_counter()
            await _append_event(db, api.org)
            await _until(lambda: bool(notifications.heard), timeout_s=5)
            # not after the backoff of a database that went away (0.25 s or more)
            assert notifications.heard[0][0] - committed < 0.2
    finally:
        await admin.close()
    assert not [r for r in caplog.records if r.name == "stockledger.wakeups"]
