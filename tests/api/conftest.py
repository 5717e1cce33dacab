"""Fixtures of the HTTP contract tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from stockledger.logging_setup import JSONFormatter


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("stockledger")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
