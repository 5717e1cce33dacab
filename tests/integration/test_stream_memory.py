"""A streamed location fetch keeps memory flat however many variants it lists (spec §8 paging)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from bench.stream_memory import fetch_streamed, insert_balances

from stockledger.api import serialize
from stockledger.service import inventory
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef
from stockledger.store.db import Database
from tests.conftest import Api

LARGE_VARIANTS = 200_000
SMALL_VARIANTS = 20_000


async def measure(app: Any, db: Database, api: Api, variants: int) -> tuple[int, int]:
    locs = await api.locations()
    await insert_balances(db, api.org, locs["STORE"], variants)
    result = await fetch_streamed(app, api.token())
    whole = await inventory.location_inventory(db, Actor(api.org, api.sub), LocationRef())
    assert len(whole.variants) == variants
    expected = orjson.dumps(serialize.location_inventory(whole))
    assert result.body_sha256 == hashlib.sha256(expected).hexdigest()  # byte-identical
    return result.peak_bytes, result.body_bytes


async def test_streamed_fetch_of_200k_variants_has_flat_peak_memory(
    app: Any, db: Database, api: Api, other_api: Api
) -> None:
    small_peak, _ = await measure(app, db, other_api, SMALL_VARIANTS)
    large_peak, large_body = await measure(app, db, api, LARGE_VARIANTS)
    # Ten times the variants, about the same peak: far below the size of the body it sent.
    assert large_peak < small_peak * 1.5 + 1_000_000, (small_peak, large_peak)
    assert large_peak < large_body / 8, (large_peak, large_body)
