"""Test doubles of the webhook schedule: a clock that moves only when told, the whole schedule's offsets."""

from __future__ import annotations

from stockledger.events.schedule import RETRY_PLAN, SystemClock, retry_delay_s

MAX_ATTEMPTS = 1 + sum(count for count, _ in RETRY_PLAN)  # 90: the first attempt and its retries


def schedule_offsets_s() -> list[int]:
    """Seconds after the first attempt at which every attempt of an always-failing message happens."""
    offsets = [0]
    for failures in range(1, MAX_ATTEMPTS):
        delay = retry_delay_s(failures)
        assert delay is not None
        offsets.append(offsets[-1] + delay)
    return offsets


class ManualClock:
    """A `Clock` that moves only when told to (tests run the whole schedule in milliseconds)."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now_ms = SystemClock().now_ms() if start_ms is None else start_ms

    def now_ms(self) -> int:
        return self._now_ms

    def advance(self, seconds: float) -> None:
        self._now_ms += int(seconds * 1000)

    def set_ms(self, value: int) -> None:
        self._now_ms = value
