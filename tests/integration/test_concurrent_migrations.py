"""Several processes migrating one fresh PostgreSQL at once: one migrates, the others wait, all succeed."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.config import Settings
from stockledger.store.db import Database
from stockledger.store.migrate import current_revision, head_revision
from tests.conftest import PG_ADMIN_DSN, _pg_url

pytestmark = pytest.mark.postgres_only


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_pg(pg_database: str | None) -> AsyncIterator[str]:
    """An empty database of its own (the session's database is migrated already)."""
    assert pg_database is not None, "PostgreSQL is needed"
    name = f"stockledger_mig_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_three_concurrent_stockledger_migrate_runs_all_succeed_on_one_database(
    fresh_pg: str,
    tmp_path: Path,
    backend: str,  # backend: deselected on SQLite
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STOCKLEDGER_")},
        "STOCKLEDGER_DATABASE_URL": fresh_pg,
        "STOCKLEDGER_DATA_DIR": str(tmp_path),
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "stockledger", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    db = Database(Settings(database_url=fresh_pg).effective_database_url(), pool_size=1)
    try:

        async def state(conn: AsyncConnection) -> tuple[str | None, int]:
            revision = await current_revision(conn)
            tables = await conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_name = 'movements'")
            )
            return revision, int(tables)

        assert await db.read(state) == (head_revision(), 1)
    finally:
        await db.dispose()
