"""Benchmark environment: throw-away databases, bulk seeding, the server subprocess, wrk and timing."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from tests.server import spawn

from stockledger.tokens import mint_access_token

SECRET = "bench-secret-" + "b" * 40
PG_ADMIN_DSN = os.environ.get("STOCKLEDGER_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
LUA_DIR = Path(__file__).parent / "lua"
UNIT = 1000  # one unit in thousandths
SYSTEM_TYPES = ("STORE", "SOLD", "BIN", "SUPPLIER")
SQLITE_SEED_CHUNK = 200_000  # rows per seeding transaction
SQLITE_SEED_CACHE_KB = 2 * 1024 * 1024


def product_uuid(p: int) -> str:
    return f"00000000-0000-4000-8000-{p:012x}"


def variant_uuid(v: int) -> str:
    return f"00000000-0000-4000-9000-{v:012x}"


@dataclass
class Org:
    """A seeded organization: its UUID, token and system locations."""

    uuid: str
    locations: dict[str, str]
    variants: int
    per_product: int
    token: str = ""

    def __post_init__(self) -> None:
        self.token = mint_access_token(SECRET, org=self.uuid, ttl_s=24 * 3600)


@dataclass
class Backend:
    """One database of one kind (sqlite or postgres), created for a benchmark and dropped after."""

    kind: str
    workdir: Path
    url: str = ""  # plain URL handed to the server
    _pg_name: str = ""
    orgs: list[Org] = field(default_factory=list)

    @classmethod
    def create(cls, kind: str) -> Backend:
        workdir = Path(tempfile.mkdtemp(prefix=f"stockledger-bench-{kind}-"))
        backend = cls(kind, workdir)
        if kind == "sqlite":
            backend.url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            backend._pg_name = f"stockledger_bench_{uuid.uuid4().hex[:12]}"
            asyncio.run(_pg_admin(f'CREATE DATABASE "{backend._pg_name}"'))
            backend.url = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + backend._pg_name
        subprocess.run(
            [sys.executable, "-m", "stockledger", "migrate", "--database-url", backend.url],
            check=True,
            env=server_env(backend),
            capture_output=True,
        )
        return backend

    def drop(self) -> None:
        if self._pg_name:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)'))
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def sqlite_path(self) -> str:
        return self.url.split(":///", 1)[1]

    # ---- seeding ------------------------------------------------------------------------------

    def seed(self, variants: int, *, per_product: int = 10, balances: bool = False, ledger: int = 0) -> Org:
        """A new organization with `variants` tracked variants; with `balances`, each variant has a
        STORE balance; with `ledger` rows, the ledger holds that many SUPPLIER→STORE movements of one
        unit spread over the variants and the balances equal their sums."""
        org = Org(str(uuid.uuid4()), {t: str(uuid.uuid1()) for t in SYSTEM_TYPES}, variants, per_product)
        now = int(time.time() * 1000)
        products = (variants + per_product - 1) // per_product
        org_rows = [(org.uuid, max(ledger, variants if balances else 0), True, now)]
        loc_rows = [
            (org.uuid, u, t, t, "System location", t == "STORE", True, now) for t, u in org.locations.items()
        ]
        product_rows = [(org.uuid, product_uuid(p), True, now) for p in range(products)]
        store, supplier = org.locations["STORE"], org.locations["SUPPLIER"]
        moves = ledger if ledger else (variants if balances else 0)
        # Rows are generated lazily (10M ledger rows never sit in memory); the UUID strings of the
        # variants are made once, not once per movement.
        variant_uuids = [variant_uuid(v) for v in range(variants)] if moves else []
        product_uuids = [product_uuid(p) for p in range(products)] if moves else []

        # balance of variant v = number of movements on it; its seq = the last one's
        def balance_rows() -> Iterator[tuple[Any, ...]]:
            if not moves:
                return
            for v in range(variants):
                count = moves // variants + (1 if v < moves % variants else 0)
                last = v + 1 + (count - 1) * variants
                for loc, sign in ((store, 1), (supplier, -1)):
                    yield (
                        org.uuid,
                        loc,
                        product_uuids[v // per_product],
                        variant_uuids[v],
                        sign * count * UNIT,
                        last,
                        now,
                    )

        def movement_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(moves):
                v = i % variants
                yield (
                    org.uuid,
                    i + 1,
                    f"00000000-0000-4000-8000-{i + 1:012x}",  # str(uuid.UUID(int=i + 1, version=4))
                    product_uuids[v // per_product],
                    variant_uuids[v],
                    supplier,
                    store,
                    UNIT,
                    None,
                    "API",
                    "bench",
                    now,
                )

        tables: list[tuple[str, list[str], Any]] = [
            ("organizations", ["uuid", "seq", "allow_negative_stock", "created_ms"], org_rows),
            (
                "locations",
                ["org_uuid", "uuid", "type", "name", "description", "is_default", "is_system", "created_ms"],
                loc_rows,
            ),
            ("products", ["org_uuid", "product_uuid", "tracked", "updated_ms"], product_rows),
            (
                "balances",
                ["org_uuid", "location_uuid", "product_uuid", "variant_uuid", "units", "seq", "updated_ms"],
                balance_rows(),
            ),
            (
                "movements",
                [
                    "org_uuid",
                    "seq",
                    "uuid",
                    "product_uuid",
                    "variant_uuid",
                    "from_location_uuid",
                    "to_location_uuid",
                    "units",
                    "external_uuid",
                    "source",
                    "actor",
                    "created_ms",
                ],
                movement_rows(),
            ),
        ]
        self.insert_rows(tables)
        self.orgs.append(org)
        return org

    def insert_rows(self, tables: list[tuple[str, list[str], Any]]) -> None:
        """Bulk-insert (table, columns, rows) in order: `executemany` in chunks on SQLite, COPY on
        PostgreSQL; then ANALYZE."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.sqlite_path)
            # A throw-away database: no fsync; a cache big enough for the random inserts into the
            # (org, product, variant, seq) index of a large ledger.
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute(f"PRAGMA cache_size=-{SQLITE_SEED_CACHE_KB}")
            for table, columns, rows in tables:
                marks = ",".join("?" * len(columns))
                insert = f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})"
                it = iter(rows)
                while chunk := list(itertools.islice(it, SQLITE_SEED_CHUNK)):
                    with conn:  # one transaction per chunk keeps the WAL small
                        conn.executemany(insert, chunk)
            conn.execute("ANALYZE")
            conn.close()
        else:

            async def copy() -> None:
                conn = await asyncpg.connect(self.url)
                try:
                    for table, columns, rows in tables:
                        await conn.copy_records_to_table(table, records=rows, columns=columns)
                    await conn.execute("ANALYZE")
                finally:
                    await conn.close()

            asyncio.run(copy())

    def ledger_count(self, org: Org, variant: int) -> int:
        query = "SELECT count(*) FROM movements WHERE org_uuid = {} AND variant_uuid = {}"
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.sqlite_path)
            try:
                return int(
                    conn.execute(query.format("?", "?"), (org.uuid, variant_uuid(variant))).fetchone()[0]
                )
            finally:
                conn.close()

        async def count() -> int:
            conn = await asyncpg.connect(self.url)
            try:
                return int(await conn.fetchval(query.format("$1", "$2"), org.uuid, variant_uuid(variant)))
            finally:
                await conn.close()

        return asyncio.run(count())


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def server_env(backend: Backend) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKLEDGER_")}
    env.update(
        STOCKLEDGER_DATA_DIR=str(backend.workdir / "data"),
        STOCKLEDGER_DATABASE_URL=backend.url,
        STOCKLEDGER_SECRET=SECRET,
        STOCKLEDGER_MAX_CHANGES="10000",
        STOCKLEDGER_MAX_BODY_BYTES=str(16 * 1024 * 1024),
    )
    return env


class Server:
    """`stockledger serve` as a subprocess on a free port (started as the test suite starts one:
    `tests/server.spawn`); always stopped by `stop()` / the context."""

    def __init__(self, backend: Backend, *, workers: int = 1, env: dict[str, str] | None = None) -> None:
        spawned = spawn({**server_env(backend), **(env or {})}, backend.workdir, "--workers", str(workers))
        self.port = spawned.port
        self.proc = spawned.process

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self, method: str, path: str, body: bytes | None = None, token: str | None = None
    ) -> tuple[int, bytes]:
        """One plain request (for single timed requests and checks, never for load)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def timed(self, method: str, path: str, body: bytes | None, token: str) -> tuple[float, int, bytes]:
        started = time.perf_counter()
        status, data = self.request(method, path, body, token)
        return time.perf_counter() - started, status, data

    def peak_rss_kb(self) -> int:
        """VmHWM (peak resident set) of the serving process (workers=1: the process itself)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        """User + system CPU time of every process of the server (its process group)."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # process group id
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    server: Server,
    org: Org,
    *,
    connections: int,
    seconds: float,
    hot: int | None = None,
    api: str = "put",
) -> dict[str, Any]:
    """wrk with the movements script: throughput, p50/p99 (ms), non-2xx and socket errors. `api`:
    `put` (PUT /organizations/self/inventory) or `v3` (POST /v3/movements)."""
    threads = max(1, min(connections, os.cpu_count() or 1))
    env = dict(os.environ)
    env.update(
        BENCH_TOKEN=org.token,
        BENCH_FROM=org.locations["SUPPLIER"],
        BENCH_TO=org.locations["STORE"],
        BENCH_VARIANTS=str(org.variants),
        BENCH_PER_PRODUCT=str(org.per_product),
        BENCH_HOT=str(-1 if hot is None else hot),
        BENCH_API=api,
    )
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA_DIR / "movements.lua"),
        server.base,
    ]
    cpu_before = server.cpu_seconds()
    out = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    cpu = server.cpu_seconds() - cpu_before
    line = next(x for x in out.splitlines() if x.startswith("BENCHJSON "))
    raw = json.loads(line.removeprefix("BENCHJSON "))
    errors = raw["status"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "ok": raw["requests"] - raw["status"],
        "errors": errors,
        "non_2xx": raw["status"],
        "throughput": raw["requests"] / seconds_run if seconds_run else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        # CPU the server spent per request: steadier than throughput on a shared machine
        "cpu_ms_per_request": 1000 * cpu / raw["requests"] if raw["requests"] else 0.0,
    }
