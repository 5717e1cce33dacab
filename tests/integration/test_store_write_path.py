"""The store's write path: large batches within database parameter limits, and the organization lock."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store import balances, orgs
from stockledger.store.db import DEFAULT_POOL_SIZE, Database, pool_size_for


async def test_balance_upsert_of_more_rows_than_one_statement_may_carry(db: Database) -> None:
    # 6,000 rows × 7 columns = 42,000 parameters: above the 32,767 one statement may carry.
    org = str(uuid.uuid4())
    location = str(uuid.uuid4())
    keys = [(location, str(uuid.UUID(int=i // 10)), str(uuid.UUID(int=i))) for i in range(6000)]
    deltas = {key: 1000 + i for i, key in enumerate(keys)}

    async def first(conn: AsyncConnection) -> dict[balances.BalanceKey, int]:
        return await balances.apply_deltas(conn, org, deltas, dict.fromkeys(keys, 1), 0)

    async def second(conn: AsyncConnection) -> dict[balances.BalanceKey, int]:
        return await balances.apply_deltas(conn, org, deltas, dict.fromkeys(keys, 2), 0)

    async def read(conn: AsyncConnection) -> dict[balances.BalanceKey, int]:
        return await balances.current_units(conn, org, keys)

    created = await db.write(first)
    assert created[keys[0]] == 1000 and created[keys[-1]] == 6999
    updated = await db.write(second)
    assert len(updated) == 6000
    assert updated[keys[-1]] == 2 * 6999
    current = await db.read(read)
    assert len(current) == 6000 and current[keys[1]] == 2 * 1001


async def test_lock_returns_the_sequence_without_consuming_it(db: Database) -> None:
    org = str(uuid.uuid4())

    async def work(conn: AsyncConnection) -> tuple[int, int, int, int]:
        await orgs.create_if_missing(conn, org)
        before = await orgs.lock(conn, org)
        allocated = await orgs.allocate_seq(conn, org, 3)
        again = await orgs.lock(conn, org)
        return before, allocated, again, await orgs.latest_seq(conn, org)

    assert await db.write(work) == (0, 3, 3, 3)


def test_server_processes_split_one_connection_budget() -> None:
    one = pool_size_for(1)
    assert one == DEFAULT_POOL_SIZE
    for workers in (2, 4):
        assert pool_size_for(workers) * workers <= one
    assert pool_size_for(64) >= 4  # never starved to nothing


def test_app_built_for_several_workers_uses_the_smaller_pool(tmp_path: Path) -> None:
    # PostgreSQL: no connection is opened before the first request
    settings = Settings(data_dir=tmp_path, secret="s" * 40, database_url="postgresql://u@127.0.0.1:5432/x")
    app = create_app(settings, workers=4)
    assert app.state.stockledger.db.write_engine.pool.size() == pool_size_for(4)
