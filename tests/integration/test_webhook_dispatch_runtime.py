"""The dispatcher where it runs: inside the app's lifespan, as `stockledger dispatch`, several at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store.db import Database
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks
from tests.webhook_receiver import running_receiver

ROOT = Path(__file__).parents[2]


async def test_the_app_lifespan_runs_the_dispatcher_and_events_arrive_within_a_second(
    settings: Settings, db: Database, hooks: Hooks
) -> None:
    app = create_app(settings.with_overrides(run_dispatcher=True), db=db)
    dispatcher = app.state.webhooks.dispatcher
    assert dispatcher is not None
    async with app.router.lifespan_context(app), running_receiver() as receiver:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as http:
            api = Api(http, new_uuid())
            await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
            started = time.perf_counter()
            await api.track(new_uuid())
            await receiver.wait_for(1, timeout_s=5)
            lag_s = time.perf_counter() - started
    assert lag_s < 1.0
    assert dispatcher._task is None  # stopped with the app


async def test_create_app_without_the_dispatcher_setting_starts_none(
    settings: Settings, db: Database
) -> None:
    app = create_app(settings.with_overrides(run_dispatcher=False), db=db)
    assert app.state.webhooks.dispatcher is None


async def test_two_dispatchers_at_once_deliver_each_message_exactly_once_in_order(
    api: Api, hooks: Hooks
) -> None:
    async with running_receiver() as a, running_receiver() as b:
        for receiver in (a, b):
            await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        products = [new_uuid() for _ in range(6)]
        for product in products:
            await api.track(product)
        first, second = hooks.new_dispatcher(), hooks.new_dispatcher()
        await asyncio.gather(first.drain(), second.drain(), hooks.dispatcher.drain())
        await asyncio.gather(first.stop(), second.stop())
        for receiver in (a, b):
            received = [_payload_product(r.json()) for r in receiver.events()]
            assert received == products


def _payload_product(envelope: dict[str, Any]) -> str:
    import json

    return str(json.loads(str(envelope["payload"]))["productUuid"])


def _start_dispatch(database_url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STOCKLEDGER_DATABASE_URL": database_url,
        "STOCKLEDGER_DATA_DIR": str(data_dir),
        "STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE": "1",
        "STOCKLEDGER_LOG_LEVEL": "warning",
    }
    return subprocess.Popen([sys.executable, "-m", "stockledger", "dispatch"], env=env, cwd=ROOT)


async def _wait_exit(process: subprocess.Popen[bytes], timeout_s: float = 10) -> int:
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait()
        raise AssertionError("the dispatcher did not stop")
    return int(process.returncode)


async def test_a_killed_dispatch_process_loses_nothing_and_a_restarted_one_delivers(
    api: Api, hooks: Hooks, database_url: str, tmp_path: Path
) -> None:
    async with running_receiver() as receiver:
        sub = await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        first_product, second_product = new_uuid(), new_uuid()
        process = _start_dispatch(database_url, tmp_path)
        try:
            await api.track(first_product)
            await receiver.wait_for(1, timeout_s=30)
            for _ in range(100):  # the outcome is recorded before the kill
                if (await hooks.log(api, sub["uuid"]))[0]["state"] == "DELIVERED":
                    break
                await asyncio.sleep(0.05)
        finally:
            process.send_signal(signal.SIGKILL)
            await _wait_exit(process)

        await api.track(second_product)  # committed while no dispatcher runs
        await asyncio.sleep(0.3)
        assert len(receiver.events()) == 1

        restarted = _start_dispatch(database_url, tmp_path)
        try:
            events = await receiver.wait_for(2, timeout_s=30)
        finally:
            restarted.send_signal(signal.SIGTERM)
            assert await _wait_exit(restarted) == 0
    assert [_payload_product(r.json()) for r in events] == [first_product, second_product]


async def test_a_running_dispatcher_is_woken_when_an_outbox_event_of_its_process_commits(
    api: Api, hooks: Hooks
) -> None:
    hooks.catch_up_with_wall_clock()
    dispatcher = hooks.new_dispatcher(safety_poll_s=3600)  # its poll alone would never come
    async with running_receiver() as receiver:
        await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        dispatcher.start()
        try:
            await asyncio.sleep(0.2)  # its first pass found nothing; it now waits for a wake-up
            started = time.perf_counter()
            await api.track(new_uuid())
            await receiver.wait_for(1, timeout_s=5)
            assert time.perf_counter() - started < 1.0
        finally:
            await dispatcher.stop()


async def test_a_stopped_dispatcher_is_no_longer_woken_by_commits(api: Api, hooks: Hooks) -> None:
    dispatcher = hooks.new_dispatcher(safety_poll_s=3600)
    dispatcher.start()
    await asyncio.sleep(0.1)
    await dispatcher.stop()
    await api.track(new_uuid())
    assert not dispatcher._wake.is_set()


async def test_a_dispatcher_stopped_just_as_it_is_woken_stops(hooks: Hooks) -> None:
    dispatcher = hooks.new_dispatcher(safety_poll_s=3600)
    dispatcher.start()
    running = dispatcher._task
    assert running is not None
    await asyncio.sleep(0.1)  # its first pass found nothing; it now waits for a wake-up
    dispatcher.wake()  # e.g. a group of deliveries ending at the moment the process shuts down
    stopping = asyncio.create_task(dispatcher.stop())
    done, _pending = await asyncio.wait({stopping}, timeout=5)
    if not done:  # the wake-up swallowed the cancellation: end it for good before failing
        running.cancel()
        await stopping
    assert done, "the dispatcher went on running after it was told to stop"
