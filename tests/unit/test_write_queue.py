"""The per-organization write queue: order, batching by runner, exclusive turns, cancelled waiters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from stockledger.store.write_queue import MAX_BATCH, MAX_BATCH_WEIGHT, WriteQueues

QUEUES = WriteQueues()  # each test uses organizations of its own


class Recorder:
    """A runner that records each call's payloads; a payload "fail" gets an exception as outcome."""

    def __init__(self, log: list[Any]) -> None:
        self.log = log

    def __eq__(self, other: object) -> bool:  # equal runners share batches
        return isinstance(other, Recorder) and other.log is self.log

    __hash__ = None  # type: ignore[assignment]

    async def __call__(self, payloads: list[Any]) -> Sequence[object]:
        self.log.append(list(payloads))
        await asyncio.sleep(0)
        return [ValueError(p) if p == "fail" else f"done {p}" for p in payloads]


async def until_waiting(org: str, count: int) -> None:
    for _ in range(1000):
        if QUEUES.waiting(org) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{QUEUES.waiting(org)} waiting, expected {count}")


async def test_writes_that_wait_are_handed_to_their_runner_together_in_arrival_order() -> None:
    calls: list[Any] = []
    org = "org-batch"
    async with QUEUES.serialised(org):  # hold the queue: everything below waits
        tasks = [asyncio.create_task(QUEUES.batched(org, Recorder(calls), n)) for n in range(5)]
        await until_waiting(org, 5)
    assert await asyncio.gather(*tasks) == [f"done {n}" for n in range(5)]
    assert calls == [[0, 1, 2, 3, 4]]
    assert QUEUES.waiting(org) == 0


async def test_a_write_alone_is_a_batch_of_one() -> None:
    calls: list[Any] = []
    assert await QUEUES.batched("org-alone", Recorder(calls), "x") == "done x"
    assert calls == [["x"]]


async def test_batches_keep_arrival_order_across_runners_and_exclusive_turns() -> None:
    first: list[Any] = []
    second: list[Any] = []
    org = "org-order"
    order: list[str] = []

    async def exclusive() -> None:
        async with QUEUES.serialised(org):
            order.append("exclusive")

    async with QUEUES.serialised(org):
        tasks = [asyncio.create_task(QUEUES.batched(org, Recorder(first), "a1"))]
        await until_waiting(org, 1)
        tasks.append(asyncio.create_task(QUEUES.batched(org, Recorder(first), "a2")))
        await until_waiting(org, 2)
        tasks.append(asyncio.create_task(QUEUES.batched(org, Recorder(second), "b1")))
        await until_waiting(org, 3)
        tasks.append(asyncio.create_task(exclusive()))
        await until_waiting(org, 4)
        tasks.append(asyncio.create_task(QUEUES.batched(org, Recorder(first), "a3")))
        await until_waiting(org, 5)
    await asyncio.gather(*tasks)
    # a1+a2 together; b1 (another runner) next; the exclusive turn; a3 is not merged across them
    assert first == [["a1", "a2"], ["a3"]]
    assert second == [["b1"]]
    assert order == ["exclusive"]


async def test_each_write_gets_its_own_outcome_and_a_failing_one_fails_alone() -> None:
    calls: list[Any] = []
    org = "org-outcomes"
    async with QUEUES.serialised(org):
        tasks = [asyncio.create_task(QUEUES.batched(org, Recorder(calls), p)) for p in ("ok1", "fail", "ok2")]
        await until_waiting(org, 3)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == "done ok1" and results[2] == "done ok2"
    assert isinstance(results[1], ValueError)


async def test_a_runner_that_raises_fails_every_write_of_its_batch() -> None:
    async def broken(payloads: list[Any]) -> Sequence[object]:
        raise RuntimeError("database gone")

    org = "org-broken"
    async with QUEUES.serialised(org):
        tasks = [asyncio.create_task(QUEUES.batched(org, broken, n)) for n in range(3)]
        await until_waiting(org, 3)
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        assert isinstance(result, RuntimeError)


async def test_a_write_cancelled_while_waiting_is_not_applied() -> None:
    calls: list[Any] = []
    org = "org-cancel"
    async with QUEUES.serialised(org):
        kept = asyncio.create_task(QUEUES.batched(org, Recorder(calls), "kept"))
        dropped = asyncio.create_task(QUEUES.batched(org, Recorder(calls), "dropped"))
        await until_waiting(org, 2)
        dropped.cancel()
        with pytest.raises(asyncio.CancelledError):
            await dropped
    assert await kept == "done kept"
    assert calls == [["kept"]]


async def test_batches_are_capped_in_writes_and_in_weight() -> None:
    calls: list[Any] = []
    org = "org-cap"
    count = MAX_BATCH + 3
    async with QUEUES.serialised(org):
        tasks = [asyncio.create_task(QUEUES.batched(org, Recorder(calls), n)) for n in range(count)]
        await until_waiting(org, count)
    await asyncio.gather(*tasks)
    assert [len(c) for c in calls] == [MAX_BATCH, 3]

    calls.clear()
    heavy = MAX_BATCH_WEIGHT // 2 + 1
    async with QUEUES.serialised(org):
        tasks = [asyncio.create_task(QUEUES.batched(org, Recorder(calls), n, weight=heavy)) for n in range(3)]
        await until_waiting(org, 3)
    await asyncio.gather(*tasks)
    assert calls == [[0], [1], [2]]


async def test_a_write_with_nobody_waiting_runs_in_its_own_task_and_a_queued_one_in_an_empty_context() -> (
    None
):
    import contextvars

    marker: contextvars.ContextVar[str | None] = contextvars.ContextVar("marker", default=None)
    seen: list[str | None] = []

    async def runner(payloads: list[Any]) -> Sequence[object]:
        seen.append(marker.get())
        return payloads

    org = "org-context"
    marker.set("request one")
    await QUEUES.batched(org, runner, 1)  # alone: run right here, no hand-off
    async with QUEUES.serialised(org):
        queued = asyncio.create_task(QUEUES.batched(org, runner, 2))
        await until_waiting(org, 1)
    await queued
    # the queue's task must not carry the context of whichever request happened to start it
    assert seen == ["request one", None]
    assert QUEUES.waiting(org) == 0


async def test_queues_of_two_databases_are_independent() -> None:
    """Queues belong to their database: holding one organization's queue of one database never makes
    the same organization's writes on another database wait."""
    other = WriteQueues()
    calls: list[Any] = []
    async with QUEUES.serialised("org-shared"):
        assert await asyncio.wait_for(other.batched("org-shared", Recorder(calls), "x"), 5) == "done x"
        assert QUEUES.waiting("org-shared") == 0
