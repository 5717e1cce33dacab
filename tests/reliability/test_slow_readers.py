"""Clients that open a large fetch and never read it hold no database resource and are cut off.

Over a real socket: a reader that reads nothing fills the socket buffers, so the server's `send`
waits for it. Neither the read pool nor the write path may wait with it: another organization's
fetches and PUTs stay fast, on SQLite and PostgreSQL. A reader that takes no bytes for the send
timeout has its connection reset.
"""

from __future__ import annotations

import math
import select
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from bench.stream_memory import insert_balances

from stockledger.store.db import SQLITE_READ_POOL_SIZE, Database, pool_size_for
from tests.conftest import Api
from tests.server import Server, start

# More stalled readers than any pool has connections: SQLite's read pool, and PostgreSQL's pool of
# one server process with its overflow (reads and writes share it there).
STALLED_READERS = max(SQLITE_READ_POOL_SIZE, 2 * pool_size_for(1)) + 8
# ~8 MB of JSON: far more than the kernel buffers of a reader that reads nothing hold (a 4 KB
# receive buffer on its side, at most 4 MB of send buffer on the server's by default on Linux).
LARGE_LOCATION_VARIANTS = 40_000
READER_RECEIVE_BUFFER_BYTES = 4096
READERS_ANSWERED_S = 120.0  # every stalled reader's answer has started, on a busy 2-core machine
OTHER_ORG_ROUNDS = 50  # a fetch and a PUT each: 100 requests
OTHER_ORG_TIMEOUT_S = 10.0
OTHER_ORG_P99_BOUND_S = 2.0  # each takes ~10 ms alone; without a bound they waited > 20 s or failed
SEND_TIMEOUT_S = 1.0
RESET_DEADLINE_S = 30.0  # the send timeout plus generous slack


async def seed_large_location(api: Api, db: Database) -> None:
    """The organization's default store gets LARGE_LOCATION_VARIANTS variants of one product."""
    store = (await api.locations())["STORE"]
    await insert_balances(db, api.org, store, LARGE_LOCATION_VARIANTS)


@contextmanager
def server_on(database_url: str, tmp_path: Path, **extra_env: str) -> Iterator[Server]:
    server = start(database_url, tmp_path / "data", extra_env={"STOCKLEDGER_DISPATCHER": "0", **extra_env})
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def stalled_reader(server: Server, token: str) -> Iterator[socket.socket]:
    """GET /inventory, then read nothing (the answer's first bytes may be peeked at, never taken)."""
    sock = socket.socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, READER_RECEIVE_BUFFER_BYTES)
        sock.connect(("127.0.0.1", server.port))
        request = (
            f"GET /inventory HTTP/1.1\r\nHost: stockledger.test\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        sock.sendall(request.encode())
        yield sock
    finally:
        sock.close()


def answered(sock: socket.socket, deadline: float) -> bool:
    """Whether the answer's status line arrives before `deadline`; not a byte of it is consumed."""
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        head = sock.recv(16, socket.MSG_PEEK)
    except TimeoutError:
        return False
    finally:
        sock.settimeout(None)
    assert head.startswith(b"HTTP/1.1 200"), head
    return True


def reset_by_server(sock: socket.socket, within_s: float) -> bool:
    """Whether the server reset the connection (now, or within `within_s`), without reading a byte."""
    poller = select.poll()
    poller.register(sock, select.POLLHUP | select.POLLERR)
    return bool(poller.poll(within_s * 1000))


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


def other_organization_work(server: Server, other: Api) -> tuple[list[float], list[str]]:
    """Fetches and PUTs of an unrelated organization: their latencies, and what failed."""
    latencies: list[float] = []
    failures: list[str] = []
    product, variant = str(uuid.uuid4()), str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {other.token()}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=OTHER_ORG_TIMEOUT_S) as http:
        started = time.perf_counter()
        try:
            locations = {loc["type"]: loc["uuid"] for loc in http.get("/organizations/self/locations").json()}
            assert (
                http.post("/organizations/self/inventory", json={"productUuid": product}).status_code == 200
            )
        except httpx.TransportError as exc:
            return [time.perf_counter() - started], [f"setup: {exc!r}"]
        change = {
            "productUuid": product,
            "variantUuid": variant,
            "fromLocationUuid": locations["SUPPLIER"],
            "toLocationUuid": locations["STORE"],
            "change": 1,
        }
        for _ in range(OTHER_ORG_ROUNDS):
            for method, path, body in (
                ("GET", "/inventory", None),
                ("PUT", "/organizations/self/inventory", {"changes": [change]}),
            ):
                started = time.perf_counter()
                try:
                    status = http.request(method, path, json=body).status_code
                except httpx.TransportError as exc:
                    status, error = 0, repr(exc)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    failures.append(f"{method} {path}: {status or error}")
                    return latencies, failures  # one is enough; the rest would wait as long
    return latencies, failures


async def test_stalled_readers_of_a_large_fetch_do_not_delay_another_organization(
    database_url: str, tmp_path: Path, api: Api, other_api: Api, db: Database
) -> None:
    await seed_large_location(api, db)
    # No send timeout: the readers stay stalled for the whole test however slow the machine is.
    with server_on(database_url, tmp_path, STOCKLEDGER_SEND_TIMEOUT_S="0") as server, ExitStack() as readers:
        sockets = [readers.enter_context(stalled_reader(server, api.token())) for _ in range(STALLED_READERS)]
        # Once their answers have started the readers only stall (before, they were still being read).
        deadline = time.monotonic() + READERS_ANSWERED_S
        readers_answered = sum(answered(sock, deadline) for sock in sockets)
        latencies, failures = other_organization_work(server, other_api)
        # The scenario held: the server was still waiting on every reader.
        assert not any(reset_by_server(sock, 0) for sock in sockets)
    assert not failures, (failures, f"{len(latencies)} requests, worst {max(latencies):.1f} s")
    assert readers_answered == STALLED_READERS
    assert len(latencies) == 2 * OTHER_ORG_ROUNDS
    assert p99(latencies) < OTHER_ORG_P99_BOUND_S, sorted(latencies)[-5:]


async def test_a_reader_that_takes_no_bytes_is_reset_after_the_send_timeout(
    database_url: str, tmp_path: Path, api: Api, db: Database
) -> None:
    await seed_large_location(api, db)
    with (
        server_on(database_url, tmp_path, STOCKLEDGER_SEND_TIMEOUT_S=str(SEND_TIMEOUT_S)) as server,
        stalled_reader(server, api.token()) as sock,
    ):
        assert answered(sock, time.monotonic() + READERS_ANSWERED_S)
        answered_at = time.monotonic()
        reset = reset_by_server(sock, RESET_DEADLINE_S)
        waited_s = time.monotonic() - answered_at
        assert reset, f"the server still holds a reader that took nothing for {waited_s:.0f} s"
        assert waited_s >= SEND_TIMEOUT_S * 0.9
        with httpx.Client(base_url=server.base_url) as http:  # the server itself is fine
            assert http.get("/healthz").status_code == 200
    assert "send timeout" in server.log()
