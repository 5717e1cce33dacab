"""One claimed group: a subscription's messages sent one at a time, in order, each outcome recorded as
it happens together with the renewal of the lease of the messages still to send.

Two tasks share the group. The sender sends; the writer records, one transaction at a time, every
outcome known when it starts: the outcome just answered at once, or, while a write is under way,
in the next one. A slow commit thus carries several outcomes instead of holding the next delivery
back (a fast receiver keeps its throughput), and a slow receiver has each outcome written, and the
lease renewed, before its next message is answered. The sender starts a delivery only while the
lease the database holds covers that delivery to its end and the recording of its outcome: the
lease never runs out while the group is being sent, so no other dispatcher claims any of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger import metrics
from stockledger.domain.subscriptions import STATUS_ACTIVE, STATUS_FAILING
from stockledger.events.delivery import Deliverer
from stockledger.events.schedule import Clock, retry_delay_s
from stockledger.store import deliveries, outcomes, subscriptions
from stockledger.store.db import Database

log = logging.getLogger("stockledger.dispatcher")

# Time left for writing an outcome after its delivery ended: a delivery starts only if the lease
# held then lasts the deliverer's timeout plus this. The dispatcher's lease must exceed both.
RECORD_ALLOWANCE_MS = 10_000
# A group's writes start at most this often: a receiver answering within milliseconds has its
# outcomes written a few at a time (a transaction per message would cost the dispatcher about half
# as much CPU again); a slower one has each written as soon as it is known.
WRITE_GAP_S = 0.1


class GroupDelivery:
    """Sends `group` and records its outcomes; `run()` returns how many deliveries were attempted."""

    def __init__(
        self, db: Database, deliverer: Deliverer, clock: Clock, lease_ms: int, group: deliveries.Group
    ) -> None:
        self.db = db
        self.deliverer = deliverer
        self.clock = clock
        self.lease_ms = lease_ms
        self.group = group
        self.held_ms = group.lease_until_ms  # the lease, as committed, of what is not yet recorded
        self._outcomes: list[outcomes.Attempt] = []  # in group order
        self._recorded = 0  # how many of them are written
        self._rest_held = True  # the messages after the recorded ones are still leased to us
        self._lost = False  # cancelled (subscription deleted) or taken over: stop sending
        self._closed = False  # the sender is done
        self._failed = False  # the writer could not write
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()  # set with _closed: the writer stops pacing

    async def run(self) -> int:
        writer = asyncio.create_task(self._write_outcomes())
        # Its failure is raised below, or the group was cut short: never an unretrieved exception.
        writer.add_done_callback(lambda task: task.cancelled() or task.exception())
        try:
            for item in self.group.items:
                if not await self._lease_covers_a_delivery():
                    break
                attempt_ms = self.clock.now_ms()
                outcome = await self.deliverer.deliver(item.destination, item.message, item.signing_key)
                metrics.DELIVERY_ATTEMPTS.labels(result="success" if outcome.ok else "failure").inc()
                async with self._changed:
                    self._outcomes.append(_attempt(item, outcome.ok, outcome.label, attempt_ms))
                    self._changed.notify_all()
                if not outcome.ok:
                    break  # the messages after it wait for its retry
            async with self._changed:
                self._closed = True
                self._changed.notify_all()
            self._closing.set()
            await writer
        finally:
            writer.cancel()  # cut short (the dispatcher stops): the leases run out, at least once holds
        return len(self._outcomes)

    async def _lease_covers_a_delivery(self) -> bool:
        """Whether the next message may be sent; waits for the writer while the lease held is too
        short and an outcome is still to be written (its write renews the lease)."""

        def covered() -> bool:
            needed_ms = self.deliverer.timeout_s * 1000 + RECORD_ALLOWANCE_MS
            return self.clock.now_ms() + needed_ms <= self.held_ms

        async with self._changed:
            await self._changed.wait_for(
                lambda: self._lost or self._failed or covered() or self._recorded == len(self._outcomes)
            )
            # All written and still short (a stalled process): the writer gives the rest back.
            return not (self._lost or self._failed) and covered()

    async def _write_outcomes(self) -> None:
        try:
            last_write_s = time.monotonic()  # the claim was the group's first write
            while True:
                async with self._changed:
                    await self._changed.wait_for(lambda: self._closed or len(self._outcomes) > self._recorded)
                pause_s = last_write_s + WRITE_GAP_S - time.monotonic()
                if pause_s > 0:  # let the outcomes coming in meanwhile share the write
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(pause_s):  # not wait_for: see Dispatcher.run_forever
                            await self._closing.wait()
                async with self._changed:
                    start, batch = self._recorded, self._outcomes[self._recorded :]
                    final = self._closed
                if not batch:
                    break
                last_write_s = time.monotonic()
                write = functools.partial(self._record, start=start, batch=batch, final=final)
                renewed, held_ms = await self.db.write(write)
                async with self._changed:
                    self._recorded += len(batch)
                    rest = len(self.group.items) - self._recorded
                    self._lost = self._lost or renewed < rest
                    self._rest_held = held_ms is not None and renewed > 0
                    self.held_ms = held_ms if held_ms is not None else self.held_ms
                    self._changed.notify_all()
                if batch[-1].state == deliveries.FAILED:
                    log.warning(
                        "webhook subscription deleted after its retry schedule was exhausted",
                        extra={
                            "subscription": self.group.subscription_uuid,
                            "message_uuid": batch[-1].claimed.message.message_uuid,
                        },
                    )
                if final or batch[-1].state != deliveries.DELIVERED:
                    return  # the rest of the group, if any, was given back by that write
            if self._rest_held and self._recorded < len(self.group.items):
                # The sender stopped with the rest still leased to us: claimable again at once.
                unsent = [c.delivery_id for c in self.group.items[self._recorded :]]
                await self.db.write(functools.partial(_release, ids=unsent, held_ms=self.held_ms))
        except BaseException:
            async with self._changed:
                self._failed = True
                self._changed.notify_all()
            raise

    async def _record(
        self, conn: AsyncConnection, *, start: int, batch: list[outcomes.Attempt], final: bool
    ) -> tuple[int, int | None]:
        """Write `batch` (the outcomes from index `start`) in one transaction and renew the lease of
        the rest of the group, or give it back after a failure or when the sender is done. Returns
        how many of the rest were renewed and their new lease."""
        last = batch[-1]
        ok = last.state == deliveries.DELIVERED
        rest = self.group.items[start + len(batch) :]
        now_ms = self.clock.now_ms()
        renew_ms = now_ms + self.lease_ms if ok and not final else None
        through = rest[-1].outbox_id if rest else last.claimed.outbox_id
        renewed = await outcomes.record_outcomes(conn, batch, through, self.held_ms, renew_ms)
        subscription = self.group.subscription_uuid
        if start == 0 or not ok:
            # The status follows the latest outcome; within a group every outcome but the last is a
            # success, so only the first one and a failure can change it.
            await subscriptions.set_status(
                conn, self.group.org_uuid, subscription, STATUS_ACTIVE if ok else STATUS_FAILING, now_ms
            )
        if last.state == deliveries.FAILED:
            # spec §7: a message that exhausts the schedule deletes its subscription.
            await subscriptions.remove(conn, self.group.org_uuid, subscription)
        return renewed, renew_ms


async def _release(conn: AsyncConnection, *, ids: list[int], held_ms: int) -> None:
    await outcomes.release(conn, ids, held_ms)


def _attempt(item: deliveries.Claimed, ok: bool, label: str, attempt_ms: int) -> outcomes.Attempt:
    """The outcome of one delivery as it is recorded: delivered, or its next retry time."""
    if ok:
        return outcomes.Attempt(item, deliveries.DELIVERED, 0, label, attempt_ms, None)
    failures = item.failures + 1
    delay_s = retry_delay_s(failures)
    state = deliveries.PENDING if delay_s is not None else deliveries.FAILED
    next_ms = attempt_ms + delay_s * 1000 if delay_s is not None else None
    log.info(
        "webhook delivery failed",
        extra={
            "subscription": item.subscription_uuid,
            "message_uuid": item.message.message_uuid,
            "status": label,
            "retry_in_s": delay_s,
        },
    )
    return outcomes.Attempt(item, state, failures, label, attempt_ms, next_ms)
