"""Writes of one organization queue in the process, and waiting movement writes share a transaction.

Writes of one organization are serial anyway (the organization row lock, held until COMMIT). Waiting
in PostgreSQL would hold a pooled connection per waiter, and every COMMIT would wake them all to race
for the row lock again; waiting here costs a suspended coroutine.

While one write runs, the ones that arrive queue up. When it ends, the queue hands every waiting
write of the same kind to one call of that kind's batch runner (`batched`; runners that compare
equal share batches), which applies them in
arrival order in ONE transaction: one lock, one commit (one disk flush) and a few statements for
all of them instead of each. Under load this removes the per-organization serial section as the
bound on throughput; with one request at a time nothing waits and a batch holds one write. Writes
that cannot share a transaction take an exclusive turn (`serialised`).

The row lock stays the guarantee (other processes, other write paths); this queue only decides who
asks for it next, so it holds no state worth invalidating. The queues are the database's
(`Database.queues`): two databases in one process never share them. A queue's task runs in an empty
context: what a request carries (e.g. its Idempotency-Key) reaches a batch only through its payload.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from stockledger.metrics import WRITE_BATCH

P = TypeVar("P")

# The runner gets the payloads in arrival order and returns one outcome per payload: a result, or the
# exception that request must raise.
Runner = Callable[[list[Any]], Awaitable[Sequence[object]]]

MAX_BATCH = 64  # writes per transaction
MAX_BATCH_WEIGHT = 1000  # changes per transaction, unless one write alone has more


@dataclass(eq=False)
class _Item:
    runner: Runner | None  # None: an exclusive turn
    payload: Any
    weight: int
    outcome: asyncio.Future[Any]  # the result, or (exclusive) the turn being granted
    finished: asyncio.Future[None] | None = None  # exclusive: the turn is over


@dataclass(eq=False)
class _Queue:
    items: deque[_Item] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None
    inline: bool = False  # a request runs its write in its own task (nobody was waiting)


class WriteQueues:
    """The write queues of one database in this process, one per organization (and event loop)."""

    def __init__(self) -> None:
        self._queues: dict[tuple[int, str], _Queue] = {}

    def _enqueue(self, org: str, item: _Item) -> None:
        key = _key(org)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue()
        queue.items.append(item)
        self._start(key, queue)

    def _start(self, key: tuple[int, str], queue: _Queue) -> None:
        if queue.task is None and not queue.inline:
            # An empty context: the task must not carry the context variables of whichever request
            # happened to start it (its request id).
            loop = asyncio.get_running_loop()
            queue.task = loop.create_task(self._drain(key, queue), context=contextvars.Context())

    @asynccontextmanager
    async def _inline(self, org: str) -> AsyncIterator[bool]:
        """When the organization has no write running or waiting, the request runs its write in its
        own task (no hand-off: the common case of light load costs nothing); yields False otherwise."""
        key = _key(org)
        if key in self._queues:
            yield False
            return
        queue = self._queues[key] = _Queue(inline=True)
        try:
            yield True
        finally:
            queue.inline = False
            if queue.items:
                self._start(key, queue)
            else:
                self._queues.pop(key, None)

    def waiting(self, org: str) -> int:
        """How many writes of the organization wait in this queue (not counting a running one)."""
        queue = self._queues.get(_key(org))
        return len(queue.items) if queue is not None else 0

    async def batched(self, org: str, runner: Runner, payload: P, weight: int = 1) -> Any:
        """Queue `payload` for `runner`; waiting payloads of one runner are handed to it together."""
        async with self._inline(org) as alone:
            if alone:
                WRITE_BATCH.observe(1)
                (result,) = await runner([payload])
                if isinstance(result, BaseException):
                    raise result
                return result
        outcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._enqueue(org, _Item(runner, payload, weight, outcome))
        return await outcome

    @asynccontextmanager
    async def serialised(self, org: str) -> AsyncIterator[None]:
        """Run the body alone, in queue order among the organization's writes."""
        async with self._inline(org) as alone:
            if alone:
                yield
                return
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        finished: asyncio.Future[None] = loop.create_future()
        self._enqueue(org, _Item(None, None, 0, turn, finished))
        try:
            await turn
            yield
        finally:
            if not finished.done():
                finished.set_result(None)

    async def _drain(self, key: tuple[int, str], queue: _Queue) -> None:
        try:
            while queue.items:
                first = queue.items.popleft()
                if first.runner is None:
                    await _exclusive(first)
                    continue
                batch = [first]
                weight = first.weight
                while queue.items and len(batch) < MAX_BATCH:
                    following = queue.items[0]
                    if following.runner != first.runner or weight + following.weight > MAX_BATCH_WEIGHT:
                        break
                    batch.append(queue.items.popleft())
                    weight += following.weight
                await _run(first.runner, batch)
        finally:
            queue.task = None
            if not queue.items:
                self._queues.pop(key, None)


def _key(org: str) -> tuple[int, str]:
    return (id(asyncio.get_running_loop()), org)


async def _exclusive(item: _Item) -> None:
    assert item.finished is not None
    if item.outcome.done():  # its request was cancelled while waiting
        return
    item.outcome.set_result(None)
    await item.finished


async def _run(runner: Runner, batch: list[_Item]) -> None:
    # A request cancelled while waiting is not applied: nobody would learn its answer.
    live = [item for item in batch if not item.outcome.done()]
    if not live:
        return
    WRITE_BATCH.observe(len(live))
    try:
        outcomes = await runner([item.payload for item in live])
    except Exception as exc:  # the whole batch failed: every request learns why
        outcomes = [exc] * len(live)
    for item, outcome in zip(live, outcomes, strict=True):
        if item.outcome.done():
            continue
        if isinstance(outcome, BaseException):
            item.outcome.set_exception(outcome)
        else:
            item.outcome.set_result(outcome)
