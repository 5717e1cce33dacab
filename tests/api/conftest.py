"""Fixtures of the HTTP contract tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from stockledger.logging_setup import JSONFormatter
from tests.conftest import Api, new_uuid


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


@pytest.fixture
async def stocked(api: Api) -> dict[str, str]:
    """A tracked variant with 5 in the default store (from SUPPLIER), and the system locations."""
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 5)).status_code == 200
    return {**locs, "product": product, "variant": variant}
