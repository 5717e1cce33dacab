"""Idempotency-Key (spec §8): exactly-once writes, with the key claimed in the effect's transaction.

How it works. The API layer computes a fingerprint of the request (method, path, body) and, when no
stored answer exists, runs the request with a `Claim` installed in `store.db.write_claim`. Every
write transaction of that request then starts by taking the organization's row lock and inserting
the key row: the key and the effect commit together or not at all. A concurrent duplicate blocks on
that lock, finds the key, rolls back without touching anything and replays the first answer once
it is stored (right after the commit).

If the process dies between the commit and storing the response, the key row exists without a
response. A retry then answers `409 IDEMPOTENCY_KEY_REUSED` saying the request was applied but its
answer was lost: the effect is in the ledger exactly once, and the client reads the current state
(or the movement history by `externalUuid`) instead of applying the write again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.errors import ServiceError
from stockledger.store import idempotency as keys
from stockledger.store import orgs
from stockledger.store.db import Database, Work, write_claim

# what `lookup` returns, named here so that the API layer need not import store/
from stockledger.store.idempotency import StoredKey as StoredKey
from stockledger.store.sql import now_ms

KEY_TTL_MS = 24 * 60 * 60 * 1000  # spec §8: replays within 24 h
MAX_KEY_LEN = 255
PURGE_INTERVAL_MS = 60 * 1000  # expired keys are deleted at most once a minute per process
REPLAY_WAIT_S = 5.0  # how long a duplicate waits for the first request's answer to be stored
REPLAY_POLL_S = 0.01

# The clock, a module attribute so tests can move time.
clock: Callable[[], int] = now_ms


@contextmanager
def claiming(claim: Claim) -> Iterator[None]:
    """Every write transaction started inside the block (by this task) claims `claim` first."""
    token = write_claim.set(claim)
    try:
        yield
    finally:
        write_claim.reset(token)


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

    def admit(self, org: str, fingerprint: str) -> None:
        self.org, self.fingerprint = org, fingerprint

    def wrap(self, work: Work[Any]) -> Work[Any]:
        """`work` preceded by claiming the key, in the same transaction (only the first write claims)."""
        if self.org is None:
            return work
        org = self.org

        async def claiming(conn: AsyncConnection) -> Any:
            if self.claimed:
                return await work(conn)
            await orgs.lock(conn, org)  # the organization row first: the house lock order
            if not await self.claim_locked(conn):
                raise key_taken()
            result = await work(conn)
            # The transaction commits right after this returns; a failing commit surfaces as an
            # error response, which is then not stored (the key row did not commit either).
            self.claimed = True
            return result

        return claiming

    async def claim_locked(self, conn: AsyncConnection) -> bool:
        """Insert the key in a transaction holding the organization lock; False (and `taken`) when some
        request, this transaction included, already holds it. True when not admitted (no key)."""
        if self.org is None:
            return True
        self.taken = not await keys.claim(conn, self.org, self.key, self.fingerprint, clock())
        return not self.taken


def key_taken() -> KeyTaken:
    return KeyTaken("Idempotency-Key is held by another request", 409, "IDEMPOTENCY_KEY_REUSED")


async def lookup(db: Database, org: str, key: str) -> keys.StoredKey | None:
    """The stored key of the organization, if any and not expired (an expired one is dropped)."""
    cutoff = clock() - KEY_TTL_MS

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


async def purge_expired(db: Database, now: int | None = None) -> int:
    """Delete keys older than 24 h; returns how many."""
    cutoff = (clock() if now is None else now) - KEY_TTL_MS

    async def work(conn: AsyncConnection) -> int:
        return await keys.purge(conn, cutoff)

    return await db.write(work)
