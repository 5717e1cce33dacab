"""What a rejected request may log: its access line and at most one more line, never a traceback."""

from __future__ import annotations

import logging

import pytest

ACCESS_LOG = "stockledger.access"


def listen(caplog: pytest.LogCaptureFixture) -> None:
    """Capture the service's records from now on (INFO, so the access lines are counted too)."""
    caplog.set_level(logging.INFO, logger="stockledger")
    caplog.clear()


def assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    """Since `listen`: no traceback, no error, and at most one line per request besides its access line."""
    records = caplog.records
    lines = [f"{r.name}: {r.getMessage()}" for r in records]
    assert not [r for r in records if r.exc_info or r.levelno >= logging.ERROR], lines
    requests = sum(r.name == ACCESS_LOG for r in records)
    assert requests >= 1, lines
    assert len([r for r in records if r.name != ACCESS_LOG]) <= requests, lines
