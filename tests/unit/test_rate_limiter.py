"""The per-organization token bucket."""

from __future__ import annotations

import pytest

from stockledger.domain.errors import ServiceError
from stockledger.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def test_burst_then_429_with_retry_after_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_s=2, burst=3, clock=clock)
    for _ in range(3):
        limiter.check("org-a")
    with pytest.raises(ServiceError) as refused:
        limiter.check("org-a")
    assert refused.value.status == 429
    assert refused.value.error_type == "RATE_LIMITED"
    assert refused.value.headers["Retry-After"] == "1"
    clock.now_s += 0.5  # one token back at 2/s
    limiter.check("org-a")


def test_one_organization_exhausted_leaves_others_unaffected() -> None:
    limiter = RateLimiter(rate_per_s=1, burst=1, clock=FakeClock())
    limiter.check("org-a")
    with pytest.raises(ServiceError):
        limiter.check("org-a")
    limiter.check("org-b")


def test_disabled_limiter_never_refuses() -> None:
    limiter = RateLimiter(rate_per_s=0, burst=0, clock=FakeClock())
    for _ in range(10_000):
        limiter.check("org-a")
