"""A slow but healthy receiver: each message once, in order, one at a time, whatever the lease.

The dispatchers run on the injected clock, which the receiver moves forward while it takes its time,
so a delivery "lasts" far longer than LEASE_MS ÷ PER_SUBSCRIPTION_BATCH (or longer than the whole
lease) without the test waiting for it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from stockledger.events.dispatcher import LEASE_MS, PER_SUBSCRIPTION_BATCH, Dispatcher
from stockledger.store import outcomes
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import BASE, Hooks
from tests.webhook_receiver import Received, Receiver, running_receiver

EVENT = "InventoryTrackingStarted"


def taking(hooks: Hooks, clock_s: float, real_s: float = 0.03) -> Callable[[int], Awaitable[None]]:
    """A receiver's pace: every answer takes `clock_s` on the injected clock (and `real_s` really, so
    that the dispatchers' other passes run while it is in flight)."""

    async def pace(_number: int) -> None:
        hooks.clock.advance(clock_s)
        await asyncio.sleep(real_s)

    return pace


def products_of(received: list[Received]) -> list[str]:
    return [str(json.loads(str(r.json()["payload"]))["productUuid"]) for r in received]


def assert_one_at_a_time(received: list[Received]) -> None:
    """Each request arrived only after the one before it had been answered."""
    for before, after in itertools.pairwise(received):
        assert before.answered_s is not None, "a request was never answered"
        assert after.arrived_s >= before.answered_s, "two deliveries of a subscription were in flight at once"


async def recorded(hooks: Hooks, api: Api, sub_uuid: str, count: int, timeout_s: float = 30) -> None:
    """Wait until the delivery log shows `count` messages DELIVERED (each outcome is written within
    moments of its answer)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = await hooks.log(api, sub_uuid)
        if sum(entry["state"] == "DELIVERED" for entry in log) >= count:
            return
        await asyncio.sleep(0.02)


async def subscribe_and_track(
    api: Api, hooks: Hooks, receiver: Receiver, count: int
) -> tuple[str, list[str]]:
    sub = await hooks.subscribe(api, receiver, [EVENT])
    products = [new_uuid() for _ in range(count)]
    for product in products:
        await api.track(product)
    hooks.catch_up_with_wall_clock()
    return str(sub["uuid"]), products


def eager(hooks: Hooks) -> Dispatcher:
    """A dispatcher that looks for work every few milliseconds, while its deliveries are in flight."""
    return hooks.new_dispatcher(safety_poll_s=0.005, min_pass_gap_s=0.0)


async def two_dispatchers_deliver(
    api: Api, hooks: Hooks, count: int, step_s: float
) -> tuple[str, list[str], list[Received]]:
    """`count` tracked products' events sent by two dispatchers running at once to a receiver that
    takes `step_s` of the injected clock per answer: the subscription, the products in outbox order
    and what arrived."""
    async with running_receiver(before_answer=taking(hooks, step_s)) as receiver:
        sub_uuid, products = await subscribe_and_track(api, hooks, receiver, count)
        first, second = eager(hooks), eager(hooks)
        first.start()
        second.start()
        try:
            await receiver.wait_for(count, timeout_s=30)
            await recorded(hooks, api, sub_uuid, count)
        finally:
            await asyncio.gather(first.stop(), second.stop())
        return sub_uuid, products, receiver.events()


async def test_two_dispatchers_send_a_slow_receiver_each_message_once_in_order_one_at_a_time(
    api: Api, hooks: Hooks
) -> None:
    count = 12
    step_s = 7.0  # per delivery: far above LEASE_MS / PER_SUBSCRIPTION_BATCH, below LEASE_MS
    assert LEASE_MS / 1000 / PER_SUBSCRIPTION_BATCH < step_s < LEASE_MS / 1000
    assert count * step_s > 2 * LEASE_MS / 1000  # the group takes more than twice the first lease
    sub_uuid, products, received = await two_dispatchers_deliver(api, hooks, count, step_s)
    assert products_of(received) == products  # none twice, none missing, in outbox order
    assert_one_at_a_time(received)
    log = await hooks.log(api, sub_uuid)
    assert [(e["state"], e["attempts"]) for e in log] == [("DELIVERED", 1)] * count


async def test_a_dispatcher_never_claims_a_subscription_it_is_still_sending_to(
    api: Api, hooks: Hooks
) -> None:
    count = 4
    beyond_lease_s = LEASE_MS / 1000 + 1  # every delivery outlasts the whole lease on this clock
    async with running_receiver(before_answer=taking(hooks, beyond_lease_s, real_s=0.05)) as receiver:
        sub_uuid, products = await subscribe_and_track(api, hooks, receiver, count)
        dispatcher = eager(hooks)  # its own later passes run while its first delivery is in flight
        dispatcher.start()
        try:
            await receiver.wait_for(count, timeout_s=30)
            await recorded(hooks, api, sub_uuid, count)
        finally:
            await dispatcher.stop()
        received = receiver.events()
    assert products_of(received) == products
    assert_one_at_a_time(received)


async def test_a_dispatcher_stopped_mid_group_leaves_only_the_unrecorded_message_to_send_again(
    api: Api, hooks: Hooks
) -> None:
    count = 6
    held = asyncio.Event()

    async def third_event_never_answered(number: int) -> None:
        if number == 4:  # the TestMessage, then the group's first, second and third messages
            await held.wait()

    async with running_receiver(before_answer=third_event_never_answered) as receiver:
        sub_uuid, products = await subscribe_and_track(api, hooks, receiver, count)
        doomed = eager(hooks)
        doomed.start()
        await receiver.wait_for(3)
        await recorded(hooks, api, sub_uuid, 2, timeout_s=10)  # the outcomes answered so far are written...
        await doomed.stop(grace_s=0)  # ...and it dies with the third message in flight
        held.set()

        successor = hooks.new_dispatcher()
        await successor.drain()
        assert len(receiver.events()) == 3  # the rest of the group is still leased to the dead one
        hooks.clock.advance(successor.lease_ms / 1000)
        await successor.drain()
        await successor.stop()
        received = receiver.events()
    # The two recorded messages are not sent again; the one cut short is (at least once).
    assert products_of(received) == [*products[:3], *products[2:]]
    log = await hooks.log(api, sub_uuid)
    assert [(e["state"], e["attempts"]) for e in log] == [("DELIVERED", 1)] * count


async def test_a_subscription_deleted_mid_group_is_sent_no_more_of_it(api: Api, hooks: Hooks) -> None:
    count = 8
    sub: dict[str, str] = {}

    async def delete_on_first_event(number: int) -> None:
        if number == 2:  # the TestMessage, then the group's first message
            response = await api.delete(f"{BASE}/{sub['uuid']}")
            assert response.status_code == 204
        await asyncio.sleep(0.15)  # each answer takes longer than the writer's pause between writes

    async with running_receiver(before_answer=delete_on_first_event) as receiver:
        sub["uuid"], _products = await subscribe_and_track(api, hooks, receiver, count)
        await hooks.dispatcher.run_once()
        received = len(receiver.events())
    # The write of the first outcome finds the rest cancelled; at most the message already on its
    # way when it committed follows.
    assert received < count
    log = await hooks.log(api, sub["uuid"])
    assert sum(entry["state"] == "CANCELLED" and entry["attempts"] == 0 for entry in log) >= count - received


async def test_no_message_is_sent_on_a_lease_too_short_while_an_outcome_waits_to_be_written(
    api: Api, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 6
    step_s = 12.0  # two deliveries outlast what the lease leaves for a delivery and its write
    write = outcomes.record_outcomes
    slowed = {"first": True}

    async def slow_first_write(*args: Any) -> int:
        if slowed.pop("first", False):
            await asyncio.sleep(0.5)  # meanwhile the sender must not go on past the lease
        return await write(*args)

    monkeypatch.setattr(outcomes, "record_outcomes", slow_first_write)
    _sub_uuid, products, received = await two_dispatchers_deliver(api, hooks, count, step_s)
    assert products_of(received) == products
    assert_one_at_a_time(received)
