"""The dispatcher: fans outbox events out to subscriptions, delivers them, and retries on schedule.

It runs inside `stockledger serve` (started and stopped by the app lifespan) or alone as
`stockledger dispatch`. Any number may run against one PostgreSQL; on SQLite writers are serialised
by the database, so several are safe too, though one is enough. Time comes from an injected clock.

An idle dispatcher does not look for work: it is woken by the commits that give it work — those of
its own process at once through the database's event listeners, those of other processes through
LISTEN/NOTIFY on PostgreSQL and through SQLite's change counter (store/wakeups.py) — and sleeps until
the next retry is due. A slow safety poll finds what no wake-up announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger import metrics
from stockledger.events.delivery import DELIVERY_TIMEOUT_S, Deliverer
from stockledger.events.group_delivery import RECORD_ALLOWANCE_MS, GroupDelivery
from stockledger.events.schedule import Clock, SystemClock
from stockledger.store import deliveries, outcomes
from stockledger.store.db import Database

log = logging.getLogger("stockledger.dispatcher")

# With nothing to wake it, a dispatcher looks for work this often. It is woken when an outbox event
# or a redelivery commits, in any process, and after each delivered group, and it sleeps no longer
# than until the next retry is due, so this poll only finds what no wake-up announced: the events of
# a process that died between its commit and its notification (PostgreSQL), notifications sent while
# its listening connection was being reopened, the lease of a dispatcher that died.
SAFETY_POLL_S = 5.0
# How often a dispatcher looks for work while it may miss wake-ups or is busy anyway: while it is
# sending, and while it cannot hear other processes' commits (its listening connection is down, or
# not up yet). Event lag then stays well under a second, as when every dispatcher polled so.
BUSY_POLL_S = 0.1
# A pass starts at most this long after the previous one started: under load, the events committed
# meanwhile gather into one pass (one fan-out, one claim, batches) instead of a pass per commit.
MIN_PASS_GAP_S = 0.02
FAN_OUT_BATCH = 500
CLAIM_BATCH = 32  # subscriptions served at once (concurrently, each by one task)
# Messages of one subscription claimed together and sent one after the other on a kept-alive
# connection: one pass (probe, claim) per message would cap a subscription at a few dozen messages a
# second. Each outcome is written as it happens, with the renewal of the lease of the rest of the
# group (events/group_delivery.py), so a slow receiver never sees its lease run out mid-group, and a
# process that dies mid-group leaves only the messages whose outcome was not written yet to be sent
# again.
PER_SUBSCRIPTION_BATCH = 50
DEPTH_INTERVAL_S = 1.0  # the outbox depth gauge is refreshed after a pass, at most this often
# A claimed delivery whose dispatcher died is retried once its lease runs out. Renewed with every
# outcome written, it must outlast one delivery (the 10 s limit) and the writing of its outcome
# (RECORD_ALLOWANCE_MS).
LEASE_MS = int(DELIVERY_TIMEOUT_S * 1000) + 20_000


class Dispatcher:
    """Delivers the outbox. `run_once()` does one full pass (tests drive it); `start()` runs it
    in a background task that starts a pass when woken (an outbox event or redelivery commits, a
    group ends, `wake()`), when the next retry is due, and at least every `safety_poll_s` (every
    BUSY_POLL_S while sending or while other processes' commits are not heard), at most one pass
    per MIN_PASS_GAP_S."""

    def __init__(
        self,
        db: Database,
        deliverer: Deliverer,
        *,
        clock: Clock | None = None,
        safety_poll_s: float = SAFETY_POLL_S,
        min_pass_gap_s: float = MIN_PASS_GAP_S,
        lease_ms: int = LEASE_MS,
    ) -> None:
        if lease_ms <= deliverer.timeout_s * 1000 + RECORD_ALLOWANCE_MS:
            raise ValueError("the lease must outlast one delivery and the recording of its outcome")
        self.db = db
        self.deliverer = deliverer
        self.clock: Clock = clock or SystemClock()
        self.safety_poll_s = safety_poll_s
        self.min_pass_gap_s = min_pass_gap_s
        self.lease_ms = lease_ms
        self._wake = asyncio.Event()
        # Whether every commit that gives it work wakes it: once its listening connection is up.
        self._hears_commits = False
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[int]] = set()
        # Subscriptions this dispatcher is sending to: never claimed again until their group ends,
        # even if a lease ran out (at most one delivery in flight per subscription, in order).
        self._sending: set[tuple[str, str]] = set()

    def wake(self) -> None:
        """Look for work now (e.g. after a redelivery was requested)."""
        self._wake.set()

    async def run_once(self) -> int:
        """Fan out pending events, then claim and deliver what is due; returns deliveries attempted.
        Waits for the deliveries it started."""
        tasks, _next_retry_ms = await self._dispatch_due()
        attempted = sum(await asyncio.gather(*tasks)) if tasks else 0
        await self._update_depth()
        return attempted

    async def drain(self, max_passes: int = 100) -> int:
        """Run passes until nothing is due (tests use this after advancing the clock)."""
        total = 0
        for _ in range(max_passes):
            done = await self.run_once()
            if not done:
                break
            total += done
        return total

    async def _dispatch_due(self) -> tuple[list[asyncio.Task[int]], int | None]:
        """Start delivering what is due; returns the deliveries started and when the next retry
        comes due (None: none is scheduled)."""
        now_ms = self.clock.now_ms()
        # One statement outside any transaction, on the side reader (store/side_reads.py).
        work = await deliveries.has_work(self.db.side_reader(), now_ms)
        if not work.deliver:
            return [], work.next_retry_ms

        async def fan_out(conn: AsyncConnection) -> deliveries.FanOut:
            return await deliveries.fan_out(conn, now_ms, FAN_OUT_BATCH)

        created = 0
        while work.fan_out:
            done = await self.db.write(fan_out)
            created += done.deliveries
            if done.events < FAN_OUT_BATCH:
                break
        if not (work.due or created):
            # Nothing to claim: the events went to no subscription (a delivery that falls due, or one
            # another process creates, meanwhile is claimed by the pass its wake-up or retry time starts).
            return [], work.next_retry_ms

        async def claim(conn: AsyncConnection) -> list[deliveries.Group]:
            return await deliveries.claim_due(
                conn,
                self.clock.now_ms(),
                self.lease_ms,
                CLAIM_BATCH,
                PER_SUBSCRIPTION_BATCH,
                exclude=set(self._sending),
            )

        claimed = await self.db.write(claim)
        # A group whose subscription started sending while the claim ran (a pass running alongside)
        # goes back at once; the lease alone would also hold it, but only as long as it lasts.
        duplicate = [g for g in claimed if g.key in self._sending]
        if duplicate:
            await self.db.write(functools.partial(self._release, groups=duplicate))
        tasks = []
        for group in claimed:
            if group.key in self._sending:
                continue
            self._sending.add(group.key)
            task = asyncio.create_task(self._deliver_logged(group))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            tasks.append(task)
        return tasks, work.next_retry_ms

    @staticmethod
    async def _release(conn: AsyncConnection, *, groups: list[deliveries.Group]) -> None:
        for group in groups:
            await outcomes.release(conn, [c.delivery_id for c in group.items], group.lease_until_ms)

    async def _deliver_logged(self, group: deliveries.Group) -> int:
        try:
            return await GroupDelivery(self.db, self.deliverer, self.clock, self.lease_ms, group).run()
        except Exception:
            # The leases run out and another pass sends the unrecorded messages again: nothing is lost.
            log.exception(
                "webhook delivery could not be recorded", extra={"subscription": group.subscription_uuid}
            )
            return len(group.items)
        finally:
            self._sending.discard(group.key)
            self._wake.set()  # the subscription's next message may be due now

    async def _update_depth(self) -> None:
        metrics.OUTBOX_DEPTH.set(await self.db.read(deliveries.depth))

    async def run_forever(self) -> None:
        """Deliver until cancelled; a failing pass is logged and retried BUSY_POLL_S later."""
        self.db.listen_for_events(self._wake.set)
        listener = self.db.listener_across_processes(self._heard, self._hearing)
        listening = asyncio.create_task(listener.run(), name="stockledger-listen")
        try:
            depth_due = 0.0
            while True:
                self._wake.clear()
                started = time.monotonic()
                try:
                    _tasks, next_retry_ms = await self._dispatch_due()
                    wait_s = self._wait_s(next_retry_ms)
                    if time.monotonic() >= depth_due:
                        await self._update_depth()
                        depth_due = time.monotonic() + DEPTH_INTERVAL_S
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("dispatcher pass failed")
                    wait_s = min(BUSY_POLL_S, self.safety_poll_s)
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns normally when the
                # task is cancelled just as the wake-up comes, and the dispatcher would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait_s):
                        await self._wake.wait()
                rest = started + self.min_pass_gap_s - time.monotonic()
                if rest > 0:
                    await asyncio.sleep(rest)
        finally:
            self.db.unlisten_for_events(self._wake.set)
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening

    def _heard(self) -> None:
        """Another process committed work. While sending, the dispatcher looks again within
        BUSY_POLL_S anyway, and when a group ends: a pass per notification would only add passes
        (and CPU) under load, not deliver sooner."""
        if not self._in_flight:
            self._wake.set()

    def _hearing(self, listening: bool) -> None:
        """The listening connection came up or went down: poll fast while it is down, and look for
        work at once either way (what was committed while it was down has not been announced)."""
        self._hears_commits = listening
        self._wake.set()

    def _wait_s(self, next_retry_ms: int | None) -> float:
        """How long to wait for a wake-up before the next pass."""
        if self._in_flight or not self._hears_commits:
            return min(BUSY_POLL_S, self.safety_poll_s)
        if next_retry_ms is None:
            return self.safety_poll_s
        # 1 ms more: a pass started a hair early would find the retry not quite due.
        until_retry_s = (next_retry_ms - self.clock.now_ms() + 1) / 1000
        return max(0.0, min(self.safety_poll_s, until_retry_s))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run_forever(), name="stockledger-dispatcher")

    async def stop(self, grace_s: float = DELIVERY_TIMEOUT_S) -> None:
        """Stop polling and let deliveries in flight finish (up to `grace_s`); what is cut short is
        delivered again once its lease runs out."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._in_flight:
            _done, pending = await asyncio.wait(set(self._in_flight), timeout=grace_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self.deliverer.aclose()
