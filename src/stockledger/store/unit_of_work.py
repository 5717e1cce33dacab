"""The unit of work: one transaction's connection and what it owes once it commits.

`Database.unit_of_work(work, claim=...)` makes one per attempt and hands it to `work`: the use case
runs its statements on `uow.conn`, registers effects outside the database with `uow.after_commit`
(they run once it committed, never for an attempt that rolled back), and the store's outbox writers
call `uow.events_appended()` (a redelivery `uow.delivery_queued()`) so that the dispatchers are woken
after the commit: this process's through the database's event listeners, those of other processes
on PostgreSQL through a notification (store/wakeups.py). Nothing is registered anywhere else: whatever a
transaction owes travels with its unit of work and is dropped with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

Hook = Callable[[], None]


class WriteClaim(Protocol):
    """A request's Idempotency-Key, claimed in the transaction of the effect it guards
    (service/idempotency.py implements it; the store only calls it)."""

    claimed: bool  # committed with a write
    taken: bool  # another request holds it

    async def claim_first(self, uow: UnitOfWork) -> None:
        """Before the transaction's work: claim the key (organization lock first), or raise when
        another request holds it; nothing when this request already claimed it."""
        ...

    async def claim_locked(self, conn: AsyncConnection) -> bool:
        """Claim inside a transaction that already holds the organization lock; False when taken."""
        ...


class UnitOfWork:
    """One attempt of one transaction: its connection, its after-commit hooks, whether it gave the
    webhook dispatchers work."""

    __slots__ = ("conn", "hooks", "wakes_dispatchers")

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.hooks: list[Hook] = []
        self.wakes_dispatchers = False

    def after_commit(self, hook: Hook) -> None:
        """Run `hook` once this transaction has committed (never if it rolls back or is retried)."""
        self.hooks.append(hook)

    def events_appended(self) -> None:
        """Outbox rows were written: wake the dispatchers once this commits."""
        self.wakes_dispatchers = True

    def delivery_queued(self) -> None:
        """A delivery was queued again (redelivery): wake the dispatchers once this commits."""
        self.wakes_dispatchers = True
