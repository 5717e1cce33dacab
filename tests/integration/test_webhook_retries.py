"""The retry schedule of spec §7 on an injected clock, and nothing lost when a dispatcher dies."""

from __future__ import annotations

import asyncio

from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import BASE, Hooks, ms_of
from tests.webhook_clock import MAX_ATTEMPTS, schedule_offsets_s
from tests.webhook_receiver import Receiver, running_receiver


def fail_first_events(count: int) -> tuple[dict[str, int], object]:
    """A status function: the TestMessage passes, the next `count` requests get 500, then 200."""
    seen = {"n": 0}

    def status(number: int) -> int:
        if number == 1:
            return 200
        seen["n"] += 1
        return 500 if seen["n"] <= count else 200

    return seen, status


async def step_to_next_attempt(hooks: Hooks, api: Api, sub_uuid: str, receiver: Receiver) -> bool:
    """Move the clock to the earliest next attempt in the log; check nothing is sent a moment earlier."""
    now_ms = hooks.clock.now_ms()
    # Messages queued behind a failing one show a past nextAttempt: only the future ones are retries.
    pending = [ms_of(e["nextAttempt"]) for e in await hooks.log(api, sub_uuid) if e["nextAttempt"]]
    future = [due for due in pending if due > now_ms]
    if not future:
        return False
    due_ms = min(future)
    before = len(receiver.received)
    hooks.clock.set_ms(due_ms - 1)
    await hooks.dispatcher.drain()
    assert len(receiver.received) == before, "a retry was sent before its time"
    hooks.clock.set_ms(due_ms)
    await hooks.dispatcher.drain()
    return True


async def test_a_receiver_failing_then_recovering_gets_each_message_once_at_the_schedules_times(
    api: Api, hooks: Hooks
) -> None:
    failures = 13  # crosses from the 60 s retries into the 600 s ones
    product, variant = new_uuid(), new_uuid()
    _seen, status = fail_first_events(failures)
    async with running_receiver(status_for=status, clock=hooks.clock) as receiver:  # type: ignore[arg-type]
        sub = await hooks.subscribe(api, receiver, ["InventoryTrackingStarted", "InventoryBalanceChanged"])
        await api.track(product)
        locs = await api.locations()
        assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 1)).status_code == 200
        await hooks.dispatcher.drain()
        statuses = []
        while await step_to_next_attempt(hooks, api, sub["uuid"], receiver):
            listed = {s["uuid"]: s["status"] for s in (await api.get(BASE)).json()}
            statuses.append(listed[sub["uuid"]])
        events = receiver.events()

    first = [e for e in events if e.json()["eventName"] == "InventoryTrackingStarted"]
    second = [e for e in events if e.json()["eventName"] == "InventoryBalanceChanged"]
    assert len(first) == failures + 1
    assert len(second) == 1  # waited behind the first, then went through at once
    start = first[0].at_ms
    assert start is not None
    offsets = [(e.at_ms or 0) - start for e in first]
    assert offsets == [s * 1000 for s in schedule_offsets_s()[: failures + 1]]
    assert second[0].at_ms == first[-1].at_ms
    assert len({e.body for e in first}) == 1  # every retry is byte-identical
    assert len({e.headers["x-izettle-signature"] for e in first}) == 1
    assert statuses[:-1] == ["FAILING"] * (len(statuses) - 1)
    assert statuses[-1] == "ACTIVE"
    log = await hooks.log(api, sub["uuid"])
    assert [(e["state"], e["attempts"]) for e in log] == [("DELIVERED", 1), ("DELIVERED", failures + 1)]


async def test_a_message_that_exhausts_the_schedule_deletes_its_subscription_and_keeps_the_log(
    api: Api, hooks: Hooks
) -> None:
    _seen, status = fail_first_events(10**6)
    async with running_receiver(status_for=status, clock=hooks.clock) as receiver:  # type: ignore[arg-type]
        sub = await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        await api.track(new_uuid())
        await hooks.dispatcher.drain()
        while await step_to_next_attempt(hooks, api, sub["uuid"], receiver):
            pass
        events = receiver.events()
    assert len(events) == MAX_ATTEMPTS == 90
    start = events[0].at_ms or 0
    assert [(e.at_ms or 0) - start for e in events] == [s * 1000 for s in schedule_offsets_s()]
    assert (events[-1].at_ms or 0) - start == (10 * 60 + 9 * 600 + 70 * 3600) * 1000
    assert (await api.get(BASE)).json() == []
    (entry,) = await hooks.log(api, sub["uuid"])
    assert entry["state"] == "FAILED"
    assert entry["attempts"] == MAX_ATTEMPTS
    assert entry["lastStatus"] == "500"
    assert entry["nextAttempt"] is None


async def test_an_event_committed_while_no_dispatcher_runs_is_delivered_after_restart(
    api: Api, hooks: Hooks
) -> None:
    async with running_receiver() as receiver:
        await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        first = hooks.new_dispatcher(safety_poll_s=0.02)
        first.start()
        await first.stop()  # the dispatcher is gone
        await api.track(new_uuid())  # committed with nobody to deliver it
        await asyncio.sleep(0.05)
        assert receiver.events() == []
        restarted = hooks.new_dispatcher(safety_poll_s=0.02)
        restarted.start()
        try:
            (delivery,) = await receiver.wait_for(1)
        finally:
            await restarted.stop()
    assert delivery.json()["eventName"] == "InventoryTrackingStarted"


async def test_a_dispatcher_killed_mid_delivery_loses_nothing(api: Api, hooks: Hooks) -> None:
    hang = asyncio.Event()
    async with running_receiver(hang=hang) as receiver:
        sub = await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        hang.set()  # the first delivery is received but never answered
        await api.track(new_uuid())
        doomed = hooks.new_dispatcher(safety_poll_s=0.02)
        doomed.start()
        await receiver.wait_for(1)
        await doomed.stop(grace_s=0)  # killed before the delivery completed
        hang.clear()

        successor = hooks.new_dispatcher()
        await successor.drain()
        assert len(receiver.events()) == 1  # the dead one's lease still holds
        hooks.clock.advance(successor.lease_ms / 1000)
        await successor.drain()
        await successor.stop()
        first, second = await receiver.wait_for(2)
    assert first.body == second.body
    (entry,) = await hooks.log(api, sub["uuid"])
    assert entry["state"] == "DELIVERED"
