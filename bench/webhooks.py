"""Scenario 7, webhooks: balance changes at a steady rate, delivered to a local receiver; delivery
throughput, event lag (commit → receipt) and exactly-once.

Two layouts: `in-process` (the server's own dispatcher, the default of `stockledger serve`) and
`separate` (the server with STOCKLEDGER_DISPATCHER=0 and one `stockledger dispatch` process, as a
deployment that needs hundreds of changes per second of webhooks runs it).

The receiver (`bench/receiver.py`) runs in its own process. Each organization gets a subscription to
InventoryBalanceChanged created through the API. A paced asyncio client sends `rate` PUTs per second
(one change each, spread round-robin over the organizations) on keep-alive connections; it is not
CPU-bound at these rates (~1 ms of client CPU per request). Lag = arrival time at the receiver −
the envelope timestamp (the movement's creation time, set inside its transaction). After the load,
the outbox of the organizations is read straight from the database: every InventoryBalanceChanged
committed must have arrived exactly once, in outbox order per subscription. CPU: the server's per PUT
(with the in-process dispatcher: deliveries included) and the separate dispatcher's per message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from tests.server import free_port

from bench.env import Backend, Org, Server, product_uuid, server_env, variant_uuid

DRAIN_TIMEOUT_S = 60.0
LAYOUTS = ("in-process", "separate")
ALLOW_PRIVATE = {"STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE": "1"}


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Dispatch:
    """`stockledger dispatch` as a subprocess (its own session); `stop()` ends it with SIGTERM."""

    def __init__(self, backend: Backend) -> None:
        self.log = open(backend.workdir / f"dispatch-{time.monotonic_ns()}.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stockledger", "dispatch"],
            env={**server_env(backend), **ALLOW_PRIVATE},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


class Receiver:
    """bench/receiver.py as a subprocess; `stop()` returns its records."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.out = workdir / f"received-{self.port}.jsonl"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.receiver", str(self.port), str(self.out)],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            self.proc.kill()
            raise RuntimeError("webhook receiver did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> list[dict[str, Any]]:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines() if line]


def _epoch_ms(timestamp: str) -> float:
    """The envelope timestamp (2026-11-26T13:18:11.999Z) in epoch milliseconds."""
    moment = dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return moment.timestamp() * 1000


def _committed(backend: Backend, orgs: list[Org]) -> list[tuple[str, str]]:
    """(org, messageUuid) of every InventoryBalanceChanged committed, in outbox order."""
    ids = [o.uuid for o in orgs]
    if backend.kind == "sqlite":
        conn = sqlite3.connect(backend.sqlite_path)
        try:
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                "SELECT org_uuid, message_uuid FROM outbox WHERE event_name = 'InventoryBalanceChanged' "
                f"AND org_uuid IN ({marks}) ORDER BY id",
                ids,
            ).fetchall()
            return [(str(a), str(b)) for a, b in rows]
        finally:
            conn.close()

    async def read() -> list[tuple[str, str]]:
        conn = await asyncpg.connect(backend.url)
        try:
            rows = await conn.fetch(
                "SELECT org_uuid, message_uuid FROM outbox WHERE event_name = 'InventoryBalanceChanged' "
                "AND org_uuid = ANY($1::text[]) ORDER BY id",
                ids,
            )
            return [(r[0], r[1]) for r in rows]
        finally:
            await conn.close()

    return asyncio.run(read())


async def _paced_load(
    server: Server, orgs: list[Org], rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    """Exactly `rate` PUTs per second for `seconds` (a request whose slot comes while every connection
    is busy waits for one: the achieved rate then falls short, and is reported)."""
    total = int(rate * seconds)
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        free.put_nowait(await asyncio.open_connection("127.0.0.1", server.port))
    rng = random.Random(7)
    status_counts: dict[int, int] = {}

    def request(org: Org) -> bytes:
        v = rng.randrange(org.variants)
        body = orjson.dumps(
            {
                "changes": [
                    {
                        "productUuid": product_uuid(v // org.per_product),
                        "variantUuid": variant_uuid(v),
                        "fromLocationUuid": org.locations["SUPPLIER"],
                        "toLocationUuid": org.locations["STORE"],
                        "change": 1,
                    }
                ]
            }
        )
        return (
            b"PUT /organizations/self/inventory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nAuthorization: Bearer "
            + org.token.encode()
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )

    async def send(data: bytes) -> None:
        reader, writer = await free.get()
        try:
            writer.write(data)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            status_counts[status] = status_counts.get(status, 0) + 1
        finally:
            free.put_nowait((reader, writer))

    tasks = []
    started = time.monotonic()
    for i in range(total):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(request(orgs[i % len(orgs)]))))
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.monotonic() - started
    while not free.empty():
        _reader, writer = free.get_nowait()
        writer.close()
    ok = sum(n for s, n in status_counts.items() if 200 <= s < 300)
    return {"sent": total, "ok": ok, "errors": total - ok, "send_s": elapsed}


def _subscribe(server: Server, org: Org, destination: str) -> str:
    body = {
        "uuid": str(uuid.uuid1()),
        "transportName": "WEBHOOK",
        "eventNames": ["InventoryBalanceChanged"],
        "destination": destination,
        "contactEmail": "bench@example.com",
    }
    status, data = server.request(
        "POST", "/organizations/self/subscriptions", json.dumps(body).encode(), org.token
    )
    assert status == 200, data
    return str(body["uuid"])


def _unsubscribe(server: Server, org: Org, sub_uuid: str) -> None:
    """Delete a run's subscription: the next run's events must not fan out to a receiver that is gone
    (its deliveries would fail and wait for their retries, and the outbox would never drain)."""
    status, data = server.request("DELETE", f"/organizations/self/subscriptions/{sub_uuid}", None, org.token)
    assert status == 204, data


def run(
    backend: Backend,
    orgs: list[Org],
    *,
    rate: float,
    seconds: float,
    layout: str = "in-process",
    connections: int = 16,
) -> dict[str, Any]:
    """One run: subscribe each organization, send the paced load, wait for the deliveries, check them."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}")
    separate = layout == "separate"
    env = {**ALLOW_PRIVATE, "STOCKLEDGER_DISPATCHER": "0" if separate else "1"}
    receiver = Receiver(backend.workdir)
    dispatch: Dispatch | None = None
    try:
        with Server(backend, env=env) as server:
            subs = [(org, _subscribe(server, org, receiver.url)) for org in orgs]
            dispatch = Dispatch(backend) if separate else None
            _warm_up(backend, server, orgs)
            before = {m for _o, m in _committed(backend, orgs)}
            server_cpu = server.cpu_seconds()
            dispatch_cpu = dispatch.cpu_seconds() if dispatch else 0.0
            load = asyncio.run(_paced_load(server, orgs, rate, seconds, connections))
            committed = [(o, m) for o, m in _committed(backend, orgs) if m not in before]
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            while time.monotonic() < deadline and _outstanding(backend):
                time.sleep(0.25)
            server_cpu = server.cpu_seconds() - server_cpu
            dispatch_cpu = dispatch.cpu_seconds() - dispatch_cpu if dispatch else 0.0
            for org, sub_uuid in subs:
                _unsubscribe(server, org, sub_uuid)
    finally:
        if dispatch is not None:
            dispatch.stop()
        records = receiver.stop()
    result = _measure(records, committed, load, seconds)
    result["server_cpu_ms_per_put"] = 1000 * server_cpu / load["sent"] if load["sent"] else 0.0
    if separate:
        delivered = result["delivered"]
        result["dispatch_cpu_ms_per_message"] = 1000 * dispatch_cpu / delivered if delivered else 0.0
    return result


def _warm_up(backend: Backend, server: Server, orgs: list[Org]) -> None:
    """One change delivered before the measured load: the dispatcher has started (a separate process
    takes a second or two to import and connect) and the connections are open."""
    org = orgs[0]
    body = {
        "changes": [
            {
                "productUuid": product_uuid(0),
                "variantUuid": variant_uuid(0),
                "fromLocationUuid": org.locations["SUPPLIER"],
                "toLocationUuid": org.locations["STORE"],
                "change": 1,
            }
        ]
    }
    status, data = server.request("PUT", "/organizations/self/inventory", orjson.dumps(body), org.token)
    assert status == 200, data
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while _outstanding(backend):
        if time.monotonic() > deadline:
            raise RuntimeError("the warm-up change was not delivered")
        time.sleep(0.05)


def _outstanding(backend: Backend) -> int:
    """Events not fanned out yet plus deliveries not made yet (the receiver reports only at exit)."""
    sql = (
        "SELECT (SELECT count(*) FROM outbox WHERE dispatched = {f}) + "
        "(SELECT count(*) FROM deliveries WHERE state = 'PENDING')"
    )
    if backend.kind == "sqlite":
        conn = sqlite3.connect(backend.sqlite_path)
        try:
            return int(conn.execute(sql.format(f="0")).fetchone()[0])
        finally:
            conn.close()

    async def read() -> int:
        conn = await asyncpg.connect(backend.url)
        try:
            return int(await conn.fetchval(sql.format(f="false")))
        finally:
            await conn.close()

    return asyncio.run(read())


def _measure(
    records: list[dict[str, Any]], committed: list[tuple[str, str]], load: dict[str, Any], seconds: float
) -> dict[str, Any]:
    wanted = {m for _o, m in committed}
    mine = [r for r in records if r["messageUuid"] in wanted]
    seen: dict[str, int] = {}
    for r in mine:
        seen[r["messageUuid"]] = seen.get(r["messageUuid"], 0) + 1
    lags = sorted(r["at"] - _epoch_ms(r["timestamp"]) for r in mine)
    n = len(lags)
    arrivals = sorted(r["at"] for r in mine)
    span_s = (arrivals[-1] - arrivals[0]) / 1000 if n > 1 else 0.0
    # per subscription (= organization here), arrivals must follow the outbox order
    org_of = dict((m, o) for o, m in committed)
    position = {m: i for i, (_o, m) in enumerate(committed)}
    last: dict[str, int] = {}
    out_of_order = 0
    for r in sorted(mine, key=lambda r: r["at"]):
        org = org_of[r["messageUuid"]]
        pos = position[r["messageUuid"]]
        if pos < last.get(org, -1):
            out_of_order += 1
        last[org] = max(pos, last.get(org, -1))
    return {
        "sent": load["sent"],
        "send_rate": load["sent"] / load["send_s"] if load["send_s"] else 0.0,
        "committed": len(committed),
        "delivered": len(seen),
        "undelivered": len(wanted - seen.keys()),
        "duplicated": sum(c - 1 for c in seen.values()),
        "out_of_order": out_of_order,
        "throughput": n / span_s if span_s else 0.0,
        "lag_p50_ms": lags[n // 2] if n else 0.0,
        "lag_p99_ms": lags[min(n - 1, int(n * 0.99))] if n else 0.0,
        "lag_max_ms": lags[-1] if n else 0.0,
        "errors": load["errors"] + len(wanted - seen.keys()) + sum(c - 1 for c in seen.values()),
    }
