"""The retry schedule of spec §7: 10 retries 60 s apart, 9 retries 600 s apart, 70 hourly."""

from __future__ import annotations

import pytest

from stockledger.events.schedule import retry_delay_s
from tests.webhook_clock import MAX_ATTEMPTS, schedule_offsets_s


def test_the_schedule_is_ten_minutely_nine_ten_minutely_and_seventy_hourly_retries() -> None:
    delays = [retry_delay_s(failures) for failures in range(1, MAX_ATTEMPTS + 1)]
    assert delays == [60] * 10 + [600] * 9 + [3600] * 70 + [None]
    assert MAX_ATTEMPTS == 90


def test_offsets_of_every_attempt_add_up_to_the_whole_schedule() -> None:
    offsets = schedule_offsets_s()
    assert len(offsets) == 90
    assert offsets[:3] == [0, 60, 120]
    assert offsets[10] == 600  # the tenth retry
    assert offsets[11] == 1200  # the first 600 s retry
    assert offsets[-1] == 10 * 60 + 9 * 600 + 70 * 3600


def test_failures_count_from_one() -> None:
    with pytest.raises(ValueError):
        retry_delay_s(0)
