"""Scenario 2, the limit: the SQL transaction of one PUT /inventory issued straight from a database client
(asyncpg or sqlite3), with no HTTP and no framework, at a given concurrency.

The statements mirror what the service executes for a one-change PUT (captured with SQLAlchemy's echo):
keep `statements()` in step with the store modules when they change.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
import uuid
from typing import Any

import asyncpg

from bench.env import UNIT, Backend, Org, product_uuid, variant_uuid

TYPE_ORDER = (
    "CASE locations.type WHEN 'STORE' THEN 0 WHEN 'SOLD' THEN 1 WHEN 'BIN' THEN 2 WHEN 'SUPPLIER' THEN 3 "
    "ELSE 4 END"
)
PAYLOAD = (
    '{"organizationUuid":"%s","updated":{"uuid":"%s","userType":"USER","clientUuid":null,'
    '"timestamp":"2026-01-01T00:00:00.000+0000"},"replaces":[],"balanceBefore":[],"balanceAfter":'
    '[{"organizationUuid":"%s","locationUuid":"%s","productUuid":"%s","variantUuid":"%s","balance":"1"}],'
    '"externalUuid":null}'
)


def statements(org: Org, variant: int, seq_hint: int) -> list[tuple[str, tuple[Any, ...]]]:
    """(SQL with $n placeholders, arguments) of one PUT with one change, in execution order."""
    store, supplier = org.locations["STORE"], org.locations["SUPPLIER"]
    p, v = product_uuid(variant // org.per_product), variant_uuid(variant)
    now = int(time.time() * 1000)
    message = str(uuid.uuid1())
    keys = sorted([(store, p, v), (supplier, p, v)])
    deltas = {store: UNIT, supplier: -UNIT}
    return [
        (
            "UPDATE organizations SET seq=(organizations.seq + $1) WHERE organizations.uuid = $2 "
            "RETURNING organizations.seq",
            (0, org.uuid),
        ),
        (
            "SELECT locations.uuid, locations.type, locations.name, locations.description, "
            "locations.is_default, locations.is_system FROM locations WHERE locations.org_uuid = $1 "
            f"ORDER BY locations.is_default DESC, {TYPE_ORDER}, locations.created_ms, locations.uuid",
            (org.uuid,),
        ),
        (
            "SELECT products.product_uuid FROM products WHERE products.org_uuid = $1 AND products.tracked IS true "
            "AND products.product_uuid IN ($2)",
            (org.uuid, p),
        ),
        (
            "UPDATE organizations SET seq=(organizations.seq + $1) WHERE organizations.uuid = $2 "
            "RETURNING organizations.seq",
            (1, org.uuid),
        ),
        (
            "INSERT INTO balances (org_uuid, location_uuid, product_uuid, variant_uuid, units, seq, updated_ms) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14) "
            "ON CONFLICT (org_uuid, location_uuid, product_uuid, variant_uuid) DO UPDATE SET "
            "units = (balances.units + excluded.units), seq = excluded.seq, updated_ms = excluded.updated_ms "
            "RETURNING balances.location_uuid, balances.product_uuid, balances.variant_uuid, balances.units",
            tuple(x for k in keys for x in (org.uuid, *k, deltas[k[0]], seq_hint, now)),
        ),
        (
            "INSERT INTO movements (org_uuid, seq, uuid, product_uuid, variant_uuid, from_location_uuid, "
            "to_location_uuid, units, external_uuid, source, actor, created_ms) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            (org.uuid, seq_hint, str(uuid.uuid4()), p, v, supplier, store, UNIT, None, "API", "bench", now),
        ),
        (
            "INSERT INTO outbox (org_uuid, event_name, message_uuid, message_id, payload, timestamp, created_ms) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING outbox.id",
            (
                org.uuid,
                "InventoryBalanceChanged",
                message,
                str(uuid.uuid5(uuid.NAMESPACE_URL, message)),
                PAYLOAD % (org.uuid, message, org.uuid, store, p, v),
                "2026-01-01T00:00:00.000+0000",
                now,
            ),
        ),
        (
            "SELECT balances.location_uuid, balances.product_uuid, balances.variant_uuid, balances.units "
            "FROM balances WHERE balances.org_uuid = $1 AND (balances.location_uuid, balances.product_uuid, "
            "balances.variant_uuid) IN (($2, $3, $4))",
            (org.uuid, store, p, v),
        ),
    ]


def _to_sqlite(sql: str) -> str:
    sql = sql.replace(" FOR NO KEY UPDATE", "")  # SQLite: BEGIN IMMEDIATE already holds the write lock
    for n in range(20, 0, -1):
        sql = sql.replace(f"${n}", "?")
    return sql


def run(backend: Backend, org: Org, *, concurrency: int, seconds: float) -> dict[str, Any]:
    if backend.kind == "sqlite":
        return _run_sqlite(backend, org, concurrency, seconds)
    return asyncio.run(_run_pg(backend, org, concurrency, seconds))


def _summary(latencies: list[float], elapsed: float) -> dict[str, Any]:
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "throughput": n / elapsed if elapsed else 0.0,
        "p50_ms": latencies[n // 2] * 1000 if n else 0.0,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        "errors": 0,
    }


async def _run_pg(backend: Backend, org: Org, concurrency: int, seconds: float) -> dict[str, Any]:
    pool = await asyncpg.create_pool(backend.url, min_size=concurrency, max_size=concurrency)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        rng = random.Random()
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with conn.transaction():
                    seq = 0
                    for sql, args in statements(org, rng.randrange(org.variants), 0):
                        if sql.startswith("UPDATE organizations"):
                            seq = await conn.fetchval(sql, *args)
                        elif sql.startswith(("INSERT INTO balances", "INSERT INTO movements")):
                            args = _with_seq(sql, args, seq)
                            await conn.fetch(sql, *args)
                        else:
                            await conn.fetch(sql, *args)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await pool.close()
    return _summary(latencies, time.perf_counter() - started)


def _with_seq(sql: str, args: tuple[Any, ...], seq: int) -> tuple[Any, ...]:
    """Put the allocated sequence number where the statement carries it."""
    if sql.startswith("INSERT INTO balances"):
        out = list(args)
        out[5] = out[12] = seq
        return tuple(out)
    return (args[0], seq, *args[2:])


def _run_sqlite(backend: Backend, org: Org, concurrency: int, seconds: float) -> dict[str, Any]:
    """Threads with their own connections; writers queue on one lock as the service's single writer does."""
    writer = threading.Lock()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        rng = random.Random()
        conn = sqlite3.connect(backend.sqlite_path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                with writer:
                    conn.execute("BEGIN IMMEDIATE")
                    seq = 0
                    for sql, args in statements(org, rng.randrange(org.variants), 0):
                        if sql.startswith("UPDATE organizations"):
                            seq = conn.execute(_to_sqlite(sql), args).fetchone()[0]
                        elif sql.startswith(("INSERT INTO balances", "INSERT INTO movements")):
                            conn.execute(_to_sqlite(sql), _with_seq(sql, args, seq)).fetchall()
                        else:
                            conn.execute(_to_sqlite(sql), args).fetchall()
                    conn.execute("COMMIT")
                latencies.append(time.perf_counter() - started)
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _summary(latencies, time.perf_counter() - started)
