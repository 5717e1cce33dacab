"""Idempotency-Key (spec §8): exactly-once writes, with the key claimed in the effect's transaction.

How it works. The API layer computes a fingerprint of the request (method, path, body) and, when no
stored answer exists, hands the request's `Claim` to its route, which passes it to the use case
(`claim=`), which passes it to `Database.write` / `unit_of_work`. That transaction starts by taking
the organization's row lock and inserting the key row: the key and the effect commit together or not
at all (queued PUTs, which share a transaction, are claimed one by one by `service.posting`). A
concurrent duplicate blocks on that lock, finds the key, rolls back without touching anything and
replays the first answer once it is stored (right after the commit).

If the process dies between the commit and storing the response, the key row exists without a
response. A retry then answers `409 IDEMPOTENCY_KEY_REUSED` saying the request was applied but its
answer was lost: the effect is in the ledger exactly once, and the client reads the current state
(or the movement history by `externalUuid`) instead of applying the write again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.errors import ServiceError
from stockledger.store import idempotency as keys
from stockledger.store import orgs
from stockledger.store.db import Database

# what `lookup` returns, named here so that the API layer need not import store/
from stockledger.store.idempotency import StoredKey as StoredKey
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import UnitOfWork

KEY_TTL_MS = 24 * 60 * 60 * 1000  # spec §8: replays within 24 h
MAX_KEY_LEN = 255
PURGE_INTERVAL_MS = 60 * 1000  # expired keys are deleted at most once a minute per process
REPLAY_WAIT_S = 5.0  # how long a duplicate waits for the first request's answer to be stored
REPLAY_POLL_S = 0.01

Clock = Callable[[], int]  # wall-clock milliseconds (the app's, so tests can move time)


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class KeyTaken(ServiceError):
    """Raised inside a write transaction whose key another request already claimed (rolls it back)."""


@dataclass
class Claim:
    """One request's key, claimed by its first write transaction.

    It claims nothing until `admit` names the organization: only once the caller passed the route's
    access checks (authentication, organization, rate limit, scope) is the key the organization's.
    A request whose route never admits it runs as if it carried no key."""

    key: str
    org: str | None = None
    fingerprint: str = ""
    claimed: bool = False  # the key row committed with a write
    taken: bool = False  # another request holds the key: answer with its response

    clock: Clock = now_ms

    def admit(self, org: str, fingerprint: str) -> None:
        self.org, self.fingerprint = org, fingerprint

    async def claim_first(self, uow: UnitOfWork) -> None:
        """Claim the key before the transaction's work (only the request's first write claims it)."""
        if self.org is None or self.claimed:
            return
        await orgs.lock(uow.conn, self.org)  # the organization row first: the house lock order
        if not await self.claim_locked(uow.conn):
            raise key_taken()
        uow.after_commit(self._committed)

    async def claim_locked(self, conn: AsyncConnection) -> bool:
        """Insert the key in a transaction holding the organization lock; False (and `taken`) when some
        request, this transaction included, already holds it. True when not admitted (no key)."""
        if self.org is None:
            return True
        self.taken = not await keys.claim(conn, self.org, self.key, self.fingerprint, self.clock())
        return not self.taken

    def _committed(self) -> None:
        self.claimed = True


def key_taken() -> KeyTaken:
    return KeyTaken("Idempotency-Key is held by another request", 409, "IDEMPOTENCY_KEY_REUSED")


async def lookup(db: Database, org: str, key: str, now: int) -> keys.StoredKey | None:
    """The stored key of the organization, if any and not expired at `now` (an expired one is dropped)."""
    cutoff = now - KEY_TTL_MS

    async def work(conn: AsyncConnection) -> keys.StoredKey | None:
        return await keys.find(conn, org, key)

    found = await db.read(work)
    if found is not None and found.created_ms < cutoff:

        async def drop(conn: AsyncConnection) -> None:
            await keys.forget(conn, org, key, cutoff)

        await db.write(drop)
        return None
    return found


async def store_response(
    db: Database, org: str, key: str, status: int, content_type: str | None, body: bytes
) -> None:
    async def work(conn: AsyncConnection) -> None:
        await keys.complete(conn, org, key, status, content_type, body)

    await db.write(work)


async def purge_expired(db: Database, now: int) -> int:
    """Delete keys older than 24 h at `now`; returns how many."""
    cutoff = now - KEY_TTL_MS

    async def work(conn: AsyncConnection) -> int:
        return await keys.purge(conn, cutoff)

    return await db.write(work)
