"""Scenario 2, the limit: the SQL transaction of one PUT /inventory issued straight from a database client
(asyncpg or sqlite3), with no HTTP and no framework, at a given concurrency.

The statements mirror what the service executes for a one-change PUT (captured with SQLAlchemy's echo,
and pinned by tests/integration/test_write_round_trips.py): keep them in step with
`store/write_path.py` and the store modules when those change.
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

PAYLOAD = (
    '{"organizationUuid":"%s","updated":{"uuid":"%s","userType":"USER","clientUuid":null,'
    '"timestamp":"2026-01-01T00:00:00.000+0000"},"replaces":[],"balanceBefore":[],"balanceAfter":'
    '[{"organizationUuid":"%s","locationUuid":"%s","productUuid":"%s","variantUuid":"%s","balance":"1"}],'
    '"externalUuid":null}'
)


LOCK_ALLOCATING = (
    "UPDATE organizations SET seq=(organizations.seq + $1) WHERE organizations.uuid = $2 "
    "RETURNING organizations.seq"
)
PRELUDE = (
    "SELECT 'L' AS kind, locations.uuid, locations.type, locations.name, locations.description, "
    "locations.is_default, locations.is_system, locations.created_ms FROM locations "
    "WHERE locations.org_uuid = $1 UNION ALL SELECT 'P', products.product_uuid, NULL, NULL, NULL, false, "
    "false, 0 FROM products WHERE products.org_uuid = $1 AND products.tracked IS true "
    "AND products.product_uuid IN ($2) UNION ALL SELECT 'A', NULL, NULL, NULL, NULL, "
    "EXISTS (SELECT * FROM low_stock_levels WHERE low_stock_levels.org_uuid = $1 "
    "AND low_stock_levels.alert IS true), organizations.allow_negative_stock, 0 FROM organizations "
    "WHERE organizations.uuid = $1"
)
UPSERT = (
    "INSERT INTO balances (org_uuid, location_uuid, product_uuid, variant_uuid, units, seq, updated_ms) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14) "
    "ON CONFLICT (org_uuid, location_uuid, product_uuid, variant_uuid) DO UPDATE SET "
    "units = (balances.units + excluded.units), seq = excluded.seq, updated_ms = excluded.updated_ms "
    "RETURNING balances.location_uuid, balances.product_uuid, balances.variant_uuid, balances.units"
)
MOVEMENT = (
    "INSERT INTO movements (org_uuid, seq, uuid, product_uuid, variant_uuid, from_location_uuid, "
    "to_location_uuid, units, external_uuid, source, actor, created_ms) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
)
OUTBOX = (
    "INSERT INTO outbox (org_uuid, event_name, message_uuid, message_id, payload, timestamp, created_ms) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
# PostgreSQL: the ledger row and the outbox event in one statement (store/write_path.append_entries).
LEDGER_AND_OUTBOX = (
    "WITH ledger AS (INSERT INTO movements (org_uuid, seq, uuid, product_uuid, variant_uuid, "
    "from_location_uuid, to_location_uuid, units, external_uuid, source, actor, created_ms) "
    "SELECT $1, m.seq, m.uuid, m.product_uuid, m.variant_uuid, m.from_location_uuid, m.to_location_uuid, "
    "m.units, m.external_uuid, $2, m.actor, $3 FROM unnest($4::bigint[], $5::varchar[], $6::varchar[], "
    "$7::varchar[], $8::varchar[], $9::varchar[], $10::bigint[], $11::varchar[], $12::varchar[]) "
    "AS m(seq, uuid, product_uuid, variant_uuid, from_location_uuid, to_location_uuid, units, "
    "external_uuid, actor)) "
    "INSERT INTO outbox (org_uuid, event_name, message_uuid, message_id, payload, timestamp, created_ms) "
    "SELECT $1, e.event_name, e.message_uuid, e.message_id, e.payload, $13, $3 "
    "FROM unnest($14::varchar[], $15::varchar[], $16::varchar[], $17::text[]) WITH ORDINALITY "
    "AS e(event_name, message_uuid, message_id, payload, n) ORDER BY e.n"
)


def statements(kind: str, org: Org, variant: int, seq: int) -> list[tuple[str, tuple[Any, ...]]]:
    """(SQL with $n placeholders, arguments) of one PUT with one change, in execution order, after
    LOCK_ALLOCATING returned `seq`. PostgreSQL folds the ledger row and the event into one statement;
    SQLite (in-process, no round trips) inserts them one by one. The answer needs no read: the upsert
    returned the balance."""
    store, supplier = org.locations["STORE"], org.locations["SUPPLIER"]
    p, v = product_uuid(variant // org.per_product), variant_uuid(variant)
    now = int(time.time() * 1000)
    message = str(uuid.uuid1())
    message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, message))
    payload = PAYLOAD % (org.uuid, message, org.uuid, store, p, v)
    stamp = "2026-01-01T00:00:00.000Z"
    keys = sorted([(store, p, v), (supplier, p, v)])
    deltas = {store: UNIT, supplier: -UNIT}
    movement = str(uuid.uuid4())
    head = [
        (PRELUDE, (org.uuid, p)),
        (UPSERT, tuple(x for k in keys for x in (org.uuid, *k, deltas[k[0]], seq, now))),
    ]
    if kind == "sqlite":
        return [
            *head,
            (MOVEMENT, (org.uuid, seq, movement, p, v, supplier, store, UNIT, None, "API", "bench", now)),
            (OUTBOX, (org.uuid, "InventoryBalanceChanged", message, message_id, payload, stamp, now)),
        ]
    return [
        *head,
        (
            LEDGER_AND_OUTBOX,
            (
                org.uuid,
                "API",
                now,
                [seq],
                [movement],
                [p],
                [v],
                [supplier],
                [store],
                [UNIT],
                [None],
                ["bench"],
                stamp,
                ["InventoryBalanceChanged"],
                [message],
                [message_id],
                [payload],
            ),
        ),
    ]


def _to_sqlite(sql: str) -> str:
    for n in range(20, 0, -1):
        sql = sql.replace(f"${n}", f"?{n}")
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
                    seq = await conn.fetchval(LOCK_ALLOCATING, 1, org.uuid)
                    for sql, args in statements("postgres", org, rng.randrange(org.variants), seq):
                        await conn.fetch(sql, *args)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await pool.close()
    return _summary(latencies, time.perf_counter() - started)


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
                    seq = conn.execute(_to_sqlite(LOCK_ALLOCATING), (1, org.uuid)).fetchone()[0]
                    for sql, args in statements("sqlite", org, rng.randrange(org.variants), seq):
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
