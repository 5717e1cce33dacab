"""Per-organization rate limiting: a token bucket per organization, in each server process.

Off by default (the embedded single-merchant mode). With STOCKLEDGER_RATE_LIMIT_PER_S > 0 each
organization may make that many requests per second on average, in bursts of up to
STOCKLEDGER_RATE_LIMIT_BURST; beyond that it gets 429 RATE_LIMITED with Retry-After. Other
organizations are unaffected. With N server processes the effective limit is up to N times higher.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stockledger.domain.errors import ServiceError

MAX_TRACKED_ORGS = 100_000  # bound memory: forget the least recently seen buckets beyond this


@dataclass
class _Bucket:
    tokens: float
    updated_s: float


@dataclass
class RateLimiter:
    rate_per_s: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.rate_per_s > 0

    def check(self, org: str) -> None:
        """Take one token from the organization's bucket, or raise 429 with the seconds to wait."""
        if not self.enabled:
            return
        now = self.clock()
        capacity = float(max(self.burst, 1))
        bucket = self._buckets.pop(org, None) or _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated_s) * self.rate_per_s)
        bucket.updated_s = now
        self._buckets[org] = bucket  # re-insert: dict order doubles as least-recently-seen order
        if len(self._buckets) > MAX_TRACKED_ORGS:
            self._buckets.pop(next(iter(self._buckets)))
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        retry_after_s = max(1, math.ceil((1 - bucket.tokens) / self.rate_per_s))
        raise ServiceError(
            "Too many requests for this organization",
            429,
            "RATE_LIMITED",
            headers={"Retry-After": str(retry_after_s)},
        )
