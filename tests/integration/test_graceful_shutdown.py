"""SIGTERM under load: in-flight requests finish, nothing is half-applied, the process exits 0."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from stockledger.tokens import mint_access_token
from tests.conftest import TEST_SECRET
from tests.server import Server, clean_env, serving

SHUTDOWN_TIMEOUT_S = 5
LOAD_CONCURRENCY = 12
LOAD_MAX_S = 4.0  # the load stops by itself after this, SIGTERM or not
SIGTERM_AFTER_S = 1.0
EXIT_SLACK_S = 10.0  # process teardown on a busy 2-core machine


@pytest.fixture
def pg_url(pg_database: str | None) -> str:
    if pg_database is None:
        pytest.skip("PostgreSQL is not reachable")
    return pg_database


def serve_env(pg_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    settings = {
        "STOCKLEDGER_DATABASE_URL": pg_url,
        "STOCKLEDGER_SECRET": TEST_SECRET,
        "STOCKLEDGER_DATA_DIR": str(tmp_path / "data"),
        "STOCKLEDGER_SHUTDOWN_TIMEOUT_S": str(SHUTDOWN_TIMEOUT_S),
        "STOCKLEDGER_DISPATCHER": "0",
        "STOCKLEDGER_LOG_LEVEL": "warning",
    }
    return clean_env(**{**settings, **extra})


async def prepare(client: httpx.AsyncClient) -> dict[str, str]:
    """Track one product; return the org's locations by type."""
    found: dict[str, str] = {}
    for loc in (await client.get("/organizations/self/locations")).json():
        if loc["type"] not in found or loc["default"]:
            found[loc["type"]] = loc["uuid"]
    return found


@dataclass
class LoadResult:
    succeeded: list[str] = field(default_factory=list)  # externalUuids answered 2xx
    in_flight_at_sigterm_succeeded: int = 0  # sent before SIGTERM, answered 2xx after it
    cut_off: Counter[str] = field(default_factory=Counter)  # transport errors by type


async def run_load(server: Server, org: str) -> LoadResult:
    """PUT two-variant movements concurrently and send SIGTERM mid-load."""
    token = mint_access_token(TEST_SECRET, org=org)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as client:
        locs = await prepare(client)
        product, variant_a, variant_b = (str(uuid.uuid4()) for _ in range(3))
        tracked = await client.post("/organizations/self/inventory", json={"productUuid": product})
        assert tracked.status_code == 200, tracked.text
        result = LoadResult()
        started = time.monotonic()
        terminated = asyncio.Event()

        def body(external: str) -> dict[str, Any]:
            return {
                "externalUuid": external,
                "changes": [
                    {
                        "productUuid": product,
                        "variantUuid": variant,
                        "fromLocationUuid": locs["SUPPLIER"],
                        "toLocationUuid": locs["STORE"],
                        "change": 1,
                    }
                    for variant in (variant_a, variant_b)
                ],
            }

        async def worker() -> None:
            while time.monotonic() - started < LOAD_MAX_S:
                external = str(uuid.uuid4())
                sent_before_sigterm = not terminated.is_set()
                try:
                    response = await client.put("/organizations/self/inventory", json=body(external))
                except httpx.TransportError as exc:
                    result.cut_off[type(exc).__name__] += 1
                    if terminated.is_set():
                        return  # the server is gone: stop, as a client would
                    continue
                assert response.is_success, response.text
                result.succeeded.append(external)
                if sent_before_sigterm and terminated.is_set():
                    result.in_flight_at_sigterm_succeeded += 1

        async def terminate() -> None:
            await asyncio.sleep(SIGTERM_AFTER_S)
            server.sigterm()
            terminated.set()

        await asyncio.gather(terminate(), *(worker() for _ in range(LOAD_CONCURRENCY)))
    return result


async def ledger_of(pg_url: str, org: str) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    conn = await asyncpg.connect(pg_url)
    try:
        movements = await conn.fetch(
            "SELECT external_uuid, variant_uuid, from_location_uuid, to_location_uuid, units"
            " FROM movements WHERE org_uuid = $1",
            org,
        )
        balances = await conn.fetch(
            "SELECT location_uuid, variant_uuid, units FROM balances WHERE org_uuid = $1", org
        )
    finally:
        await conn.close()
    return movements, balances


@pytest.mark.parametrize("workers", [1, 2])
async def test_sigterm_mid_load_finishes_in_flight_requests_and_exits_zero(
    pg_url: str, tmp_path: Path, workers: int
) -> None:
    org = str(uuid.uuid4())
    with serving(serve_env(pg_url, tmp_path), tmp_path, "--workers", str(workers)) as server:
        result = await run_load(server, org)
        signalled = time.monotonic()
        returncode = await asyncio.to_thread(server.process.wait, SHUTDOWN_TIMEOUT_S + EXIT_SLACK_S)
        assert returncode == 0, server.log()
        assert time.monotonic() - signalled < SHUTDOWN_TIMEOUT_S + EXIT_SLACK_S
        assert "Traceback" not in server.log()

    succeeded = result.succeeded
    print(
        f"workers={workers}: {len(succeeded)} answered 2xx, {result.in_flight_at_sigterm_succeeded}"
        f" of them in flight at SIGTERM; cut off: {dict(result.cut_off)}"
    )
    assert succeeded, "the load never got through"
    # Requests the server was busy with when SIGTERM arrived were answered, not dropped.
    assert result.in_flight_at_sigterm_succeeded >= 1
    movements, balances = await ledger_of(pg_url, org)
    per_request = Counter(row["external_uuid"] for row in movements)
    # Every request answered 2xx is in the ledger, with both of its changes.
    assert {ext: per_request[ext] for ext in succeeded} == dict.fromkeys(succeeded, 2)
    # No request is half-applied: any request in the ledger has both its variants.
    variants_per_request: dict[str, set[str]] = {}
    for row in movements:
        variants_per_request.setdefault(row["external_uuid"], set()).add(row["variant_uuid"])
    assert all(count == 2 for count in per_request.values())
    assert all(len(v) == 2 for v in variants_per_request.values())
    # The balances equal the ledger sums.
    sums: Counter[tuple[str, str]] = Counter()
    for row in movements:
        sums[(row["to_location_uuid"], row["variant_uuid"])] += row["units"]
        sums[(row["from_location_uuid"], row["variant_uuid"])] -= row["units"]
    assert {(b["location_uuid"], b["variant_uuid"]): b["units"] for b in balances} == {
        key: units for key, units in sums.items()
    }
    assert len(per_request) >= len(succeeded)  # requests cut off by the shutdown may or may not apply


def test_shutdown_waits_for_an_in_flight_request_at_most_the_timeout(pg_url: str, tmp_path: Path) -> None:
    timeout_s = 1
    env = serve_env(pg_url, tmp_path, STOCKLEDGER_SHUTDOWN_TIMEOUT_S=str(timeout_s))
    with serving(env, tmp_path) as server:
        token = mint_access_token(TEST_SECRET, org=str(uuid.uuid4()))
        # A request whose body never finishes arriving keeps the server busy until the timeout.
        stuck = socket.create_connection(("127.0.0.1", server.port))
        stuck.sendall(
            (
                "PUT /organizations/self/inventory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                "Content-Length: 1000\r\n\r\n{"
            ).encode()
        )
        time.sleep(0.3)
        signalled = time.monotonic()
        server.sigterm()
        time.sleep(0.3)
        # It stopped accepting connections while it still waits for the stuck request.
        assert server.process.poll() is None
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        returncode = server.process.wait(timeout_s + EXIT_SLACK_S)
        elapsed_s = time.monotonic() - signalled
        stuck.close()
        assert returncode == 0, server.log()
        assert timeout_s * 0.9 <= elapsed_s < timeout_s + EXIT_SLACK_S


def test_ctrl_c_stops_quietly_with_status_130(pg_url: str, tmp_path: Path) -> None:
    with serving(serve_env(pg_url, tmp_path), tmp_path) as server:
        server.process.send_signal(signal.SIGINT)
        returncode = server.process.wait(SHUTDOWN_TIMEOUT_S + EXIT_SLACK_S)
        assert returncode == 130, server.log()
        assert "Traceback" not in server.log()
