"""The dispatcher: fans outbox events out to subscriptions, delivers them, and retries on schedule.

It runs inside `stockledger serve` (started and stopped by the app lifespan) or alone as
`stockledger dispatch`. Any number may run against one PostgreSQL; on SQLite writers are serialised
by the database, so several are safe too, though one is enough. Time comes from an injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger import metrics
from stockledger.domain.subscriptions import STATUS_ACTIVE, STATUS_FAILING
from stockledger.events.delivery import DELIVERY_TIMEOUT_S, Deliverer
from stockledger.events.schedule import Clock, SystemClock, retry_delay_s
from stockledger.store import deliveries, subscriptions
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
# connection, their outcomes recorded in one transaction: one pass per message would cap a
# subscription at a few dozen messages a second. If the process dies mid-batch, the messages sent
# but not yet recorded are sent again once their lease runs out (at-least-once, as for one).
PER_SUBSCRIPTION_BATCH = 50
# A claimed delivery whose dispatcher died is retried once its lease runs out; it must outlast
# the 10 s delivery limit with room for the database round trips around it.
DEPTH_INTERVAL_S = 1.0  # how often the outbox depth gauge is refreshed while running
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
        self.db = db
        self.deliverer = deliverer
        self.clock: Clock = clock or SystemClock()
        self.poll_interval_s = poll_interval_s
        self.min_pass_gap_s = min_pass_gap_s
        self.lease_ms = lease_ms
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[int]] = set()

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

        async def probe(conn: AsyncConnection) -> deliveries.Work:
            return await deliveries.has_work(conn, now_ms)

        work = await self.db.read(probe)
        if not work.deliver:
            return []

        async def fan_out(conn: AsyncConnection) -> int:
            return await deliveries.fan_out(conn, now_ms, FAN_OUT_BATCH)

        if work.fan_out:
            while await self.db.write(fan_out) == FAN_OUT_BATCH:
                pass

        async def claim(conn: AsyncConnection) -> list[list[deliveries.Claimed]]:
            return await deliveries.claim_due(
                conn, self.clock.now_ms(), self.lease_ms, CLAIM_BATCH, PER_SUBSCRIPTION_BATCH
            )

        claimed = await self.db.write(claim)
        tasks = [asyncio.create_task(self._deliver_logged(group)) for group in claimed]
        for task in tasks:
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return tasks

    async def _deliver_logged(self, group: list[deliveries.Claimed]) -> int:
        try:
            return await self._deliver(group)
        except Exception:
            # The leases run out and another pass delivers them again: nothing is lost.
            log.exception("webhook delivery could not be recorded", extra={"delivery": group[0].delivery_id})
            return len(group)

    async def _deliver(self, group: list[deliveries.Claimed]) -> int:
        """Send one subscription's claimed messages in order, stopping at the first failure (the
        messages after it wait for its retry); record every attempt in one transaction."""
        attempts: list[deliveries.Attempt] = []
        unsent: list[int] = []
        for index, item in enumerate(group):
            attempt_ms = self.clock.now_ms()
            outcome = await self.deliverer.deliver(item.destination, item.message, item.signing_key)
            metrics.DELIVERY_ATTEMPTS.labels(result="success" if outcome.ok else "failure").inc()
            if outcome.ok:
                attempts.append(
                    deliveries.Attempt(item, deliveries.DELIVERED, 0, outcome.label, attempt_ms, None)
                )
                continue
            failures = item.failures + 1
            delay_s = retry_delay_s(failures)
            state = deliveries.PENDING if delay_s is not None else deliveries.FAILED
            next_ms = attempt_ms + delay_s * 1000 if delay_s is not None else None
            attempts.append(deliveries.Attempt(item, state, failures, outcome.label, attempt_ms, next_ms))
            unsent = [later.delivery_id for later in group[index + 1 :]]
            log.info(
                "webhook delivery failed",
                extra={
                    "subscription": item.subscription_uuid,
                    "message_uuid": item.message.message_uuid,
                    "status": outcome.label,
                    "retry_in_s": delay_s,
                },
            )
            break
        last = attempts[-1]
        subscription = last.claimed.subscription_uuid
        org = last.claimed.message.org_uuid

        async def record(conn: AsyncConnection) -> None:
            await deliveries.record_attempts(conn, attempts)
            await deliveries.release(conn, unsent)
            status = STATUS_ACTIVE if last.state == deliveries.DELIVERED else STATUS_FAILING
            await subscriptions.set_status(conn, org, subscription, status, self.clock.now_ms())
            if last.state == deliveries.FAILED:
                # spec §7: a message that exhausts the schedule deletes its subscription.
                await subscriptions.remove(conn, org, subscription)

        await self.db.write(record)
        if last.state == deliveries.FAILED:
            log.warning(
                "webhook subscription deleted after its retry schedule was exhausted",
                extra={"subscription": subscription, "message_uuid": last.claimed.message.message_uuid},
            )
        self._wake.set()  # the subscription's next message may be due now
        return len(attempts)

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
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
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
