"""The retry schedule of spec §7 and the clock the dispatcher reads time from."""

from __future__ import annotations

import time
from typing import Protocol

# After the first failed attempt: 10 retries 60 s apart, then 9 retries 600 s apart, then 70 hourly.
RETRY_PLAN: tuple[tuple[int, int], ...] = ((10, 60), (9, 600), (70, 3600))


def retry_delay_s(failures: int) -> int | None:
    """Seconds to wait after the `failures`-th consecutive failed attempt, or None when exhausted."""
    if failures < 1:
        raise ValueError("failures counts failed attempts and starts at 1")
    remaining = failures
    for count, delay_s in RETRY_PLAN:
        if remaining <= count:
            return delay_s
        remaining -= count
    return None


class Clock(Protocol):
    """Where the dispatcher reads the time; tests inject one they can move forward."""

    def now_ms(self) -> int: ...


class SystemClock:
    """The wall clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000
