"""kill -9 under load: every acknowledged request is in the ledger, none is half-applied."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import httpx

from stockledger.store.db import Database
from stockledger.tokens import mint_access_token
from tests import server as real_server
from tests.conftest import TEST_SECRET
from tests.ledger import assert_ledger_invariant, movements_per_external_uuid

LOAD_CONCURRENCY = 8
LOAD_BEFORE_KILL_S = 1.5
CHANGES_PER_REQUEST = 2


async def _setup(client: httpx.AsyncClient, product: str) -> dict[str, str]:
    assert (
        await client.post("/organizations/self/inventory", json={"productUuid": product})
    ).status_code == 200
    locs = (await client.get("/organizations/self/locations")).json()
    return {loc["type"]: loc["uuid"] for loc in locs if loc["default"] or loc["type"] != "STORE"}


async def _load(
    base_url: str, token: str, product: str, locs: dict[str, str], acknowledged: list[str]
) -> None:
    """Send PUTs of two changes each until the server dies; remember which ones were answered 2xx."""
    variants = [str(uuid.uuid4()) for _ in range(4)]
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(index: int) -> None:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
            n = 0
            while True:
                n += 1
                external = str(uuid.uuid4())
                first, second = variants[(index + n) % 4], variants[(index + n + 1) % 4]
                body = {
                    "externalUuid": external,
                    "changes": [
                        {
                            "productUuid": product,
                            "variantUuid": variant,
                            "fromLocationUuid": locs["SUPPLIER"],
                            "toLocationUuid": locs["STORE"],
                            "change": "1.5",
                        }
                        for variant in (first, second)
                    ],
                }
                try:
                    response = await client.put("/organizations/self/inventory", json=body)
                except httpx.HTTPError:
                    return  # the server is gone: this request's fate is unknown, which is allowed
                if response.status_code == 200:
                    acknowledged.append(external)

    await asyncio.gather(*(worker(i) for i in range(LOAD_CONCURRENCY)))


async def load_then_kill(
    server: real_server.Server,
    token: str,
    product: str,
    locs: dict[str, str],
    acknowledged: list[str],
    load_s: float,
) -> None:
    """Run the load for `load_s`, then SIGKILL the server while requests are in flight."""
    load = asyncio.create_task(_load(server.base_url, token, product, locs, acknowledged))
    await asyncio.sleep(load_s)
    server.kill()
    await asyncio.wait_for(load, timeout=30)


async def assert_nothing_lost_or_half_applied(
    db: Database, org: str, acknowledged: list[str]
) -> Counter[str]:
    """Every acknowledged request is in the ledger whole, no request is partly there, balances = ledger."""
    assert len(acknowledged) > 10, "the load ran long enough to matter"
    counts = await movements_per_external_uuid(db, org)
    for external in acknowledged:
        assert counts[external] == CHANGES_PER_REQUEST, f"acknowledged request {external} lost"
    assert all(n == CHANGES_PER_REQUEST for n in counts.values()), "a request was half-applied"
    await assert_ledger_invariant(db, org)
    return counts


async def crash_cycle(
    database_url: str, db: Database, data_dir: Path, load_s: float = LOAD_BEFORE_KILL_S
) -> int:
    """Load a server, kill -9 it, check the ledger, restart it; returns the acknowledged requests."""
    org, product = str(uuid.uuid4()), str(uuid.uuid4())
    token = mint_access_token(TEST_SECRET, org=org)
    server = real_server.start(database_url, data_dir)
    acknowledged: list[str] = []
    try:
        async with httpx.AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:
            locs = await _setup(client, product)
        await load_then_kill(server, token, product, locs, acknowledged, load_s)
    finally:
        server.kill()
    await assert_nothing_lost_or_half_applied(db, org, acknowledged)

    # The service comes back on the same database and keeps working.
    with real_server.running(database_url, data_dir) as restarted:
        async with httpx.AsyncClient(
            base_url=restarted.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:
            inventory = (await client.get("/inventory")).json()
            assert inventory["latest"] >= len(acknowledged) * CHANGES_PER_REQUEST
    return len(acknowledged)


async def test_kill_9_under_load_loses_no_acknowledged_request_and_half_applies_none(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    await crash_cycle(database_url, db, tmp_path / "data")
