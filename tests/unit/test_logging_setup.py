"""The JSON log line: its fields, and nothing collected per line that no line shows."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from stockledger.logging_setup import JSONFormatter, configure, request_id_var

_FLAGS = ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing")


@pytest.fixture
def configured() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {name: getattr(logging, name) for name in _FLAGS})
    configure("info")
    yield
    root.handlers[:], level, flags = saved
    root.setLevel(level)
    for name, value in flags.items():
        setattr(logging, name, value)


def _record(**extra: object) -> logging.LogRecord:
    record = logging.getLogger("stockledger.access").makeRecord(
        "stockledger.access", logging.INFO, __file__, 1, "request", (), None, extra=extra
    )
    record.created, record.msecs = 1_764_163_091.966, 966.0
    return record


def test_a_line_carries_time_level_logger_message_request_id_and_extras(configured: None) -> None:
    token = request_id_var.set("abc")
    try:
        record = _record(method="PUT", status=200)
    finally:
        request_id_var.reset(token)
    assert json.loads(JSONFormatter().format(record)) == {
        "time": "2025-11-26T13:18:11.966Z",
        "level": "info",
        "logger": "stockledger.access",
        "message": "request",
        "request_id": "abc",
        "method": "PUT",
        "status": 200,
    }


def test_the_caller_thread_and_process_are_not_collected_per_line(configured: None) -> None:
    record = _record()
    assert (record.thread, record.threadName, record.process, record.processName) == (None,) * 4
    assert logging._srcfile is None  # no stack walk to find the caller
