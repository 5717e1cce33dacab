"""Password hashing: argon2id through argon2-cffi, verified in constant time, a few at a time.

A hash is a memory-hard computation (64 MiB, about a tenth of a second with the library's default
parameters): it runs in a worker thread so the event loop keeps serving, and at most
MAX_CONCURRENT_HASHES run at once so a burst of sign-ins cannot exhaust memory or both cores.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults (RFC 9106's low-memory profile: argon2id, t=3, m=64 MiB, p=4). When a new
# release raises them, hashes of older parameters are replaced at their owner's next sign-in.
HASHER = PasswordHasher()
MAX_CONCURRENT_HASHES = 2
_slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
_dummies: dict[int, str] = {}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    needs_rehash: bool = False


def hash_password(password: str) -> str:
    with _slots:
        return HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> Verdict:
    """Whether `password` matches `stored_hash`; with None (no such account) a dummy hash of the
    same parameters is checked instead, so an unknown account costs what a wrong password costs."""
    hasher = HASHER
    dummy = _dummy_hash(hasher)  # made by the first check of either kind, so neither pays it alone
    target = stored_hash if stored_hash is not None else dummy
    with _slots:
        try:
            hasher.verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verdict(False)
    if stored_hash is None:
        return Verdict(False)
    return Verdict(True, hasher.check_needs_rehash(stored_hash))


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = id(hasher)
    if key not in _dummies:
        _dummies[key] = hasher.hash(secrets.token_urlsafe(16))
    return _dummies[key]


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(stored_hash: str | None, password: str) -> Verdict:
    return await asyncio.to_thread(verify_password, stored_hash, password)
