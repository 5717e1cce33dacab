"""The dispatcher: fans outbox events out to subscriptions, delivers them, and retries on schedule.

It runs inside `stockledger serve` (started and stopped by the app lifespan) or alone as
`stockledger dispatch`. Any number may run against one PostgreSQL; on SQLite writers are serialised
by the database, so several are safe too, though one is enough. Time comes from an injected clock.
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

# Dispatchers of this process are woken when an outbox event commits (`Database.listen_for_events`)
# and after each delivered batch; the poll finds what other processes committed.
POLL_INTERVAL_S = 0.1
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
DEPTH_INTERVAL_S = 1.0  # how often the outbox depth gauge is refreshed while running
# A claimed delivery whose dispatcher died is retried once its lease runs out. Renewed with every
# outcome written, it must outlast one delivery (the 10 s limit) and the writing of its outcome
# (RECORD_ALLOWANCE_MS).
LEASE_MS = int(DELIVERY_TIMEOUT_S * 1000) + 20_000


class Dispatcher:
    """Delivers the outbox. `run_once()` does one full pass (tests drive it); `start()` runs it
    in a background task that wakes every POLL_INTERVAL_S, when an outbox event of this process
    commits, or when `wake()` is called (at most one pass per MIN_PASS_GAP_S)."""

    def __init__(
        self,
        db: Database,
        deliverer: Deliverer,
        *,
        clock: Clock | None = None,
        poll_interval_s: float = POLL_INTERVAL_S,
        min_pass_gap_s: float = MIN_PASS_GAP_S,
        lease_ms: int = LEASE_MS,
    ) -> None:
        if lease_ms <= deliverer.timeout_s * 1000 + RECORD_ALLOWANCE_MS:
            raise ValueError("the lease must outlast one delivery and the recording of its outcome")
        self.db = db
        self.deliverer = deliverer
        self.clock: Clock = clock or SystemClock()
        self.poll_interval_s = poll_interval_s
        self.min_pass_gap_s = min_pass_gap_s
        self.lease_ms = lease_ms
        self._wake = asyncio.Event()
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
        tasks = await self._dispatch_due()
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

    async def _dispatch_due(self) -> list[asyncio.Task[int]]:
        now_ms = self.clock.now_ms()
        work = await deliveries.has_work(self.db.side_reader(), now_ms)
        if not (work.fan_out or work.due):
            return []

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
            # another process creates, meanwhile is claimed by the next pass, at most a poll away).
            return []

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
        return tasks

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
        """Poll and deliver until cancelled; a failing pass is logged and retried on the next one."""
        self.db.listen_for_events(self._wake.set)
        try:
            depth_due = 0.0
            while True:
                self._wake.clear()
                started = time.monotonic()
                try:
                    await self._dispatch_due()
                    if time.monotonic() >= depth_due:
                        await self._update_depth()
                        depth_due = time.monotonic() + DEPTH_INTERVAL_S
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("dispatcher pass failed")
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns normally when the
                # task is cancelled just as the wake-up comes, and the dispatcher would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval_s):
                        await self._wake.wait()
                rest = started + self.min_pass_gap_s - time.monotonic()
                if rest > 0:
                    await asyncio.sleep(rest)
        finally:
            self.db.unlisten_for_events(self._wake.set)

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
