"""Long reliability runs for `make soak` (on demand and before a release; not part of `make test`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockledger.store.db import Database
from tests.reliability.test_crash import crash_cycle
from tests.reliability.test_crash_webhooks import crash_cycle_with_webhooks
from tests.reliability.test_multiprocess_load import run_processes

CRASH_CYCLES = 6
WEBHOOK_CRASH_CYCLES = 3
SOAK_LOAD_S = 4.0


async def test_repeated_kill_9_cycles_keep_the_ledger_exact(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    total = 0
    for cycle in range(CRASH_CYCLES):
        total += await crash_cycle(database_url, db, tmp_path / f"cycle-{cycle}", load_s=SOAK_LOAD_S)
    assert total > CRASH_CYCLES * 50


async def test_eight_clients_against_four_servers_end_exact(pg_database: str | None, tmp_path: Path) -> None:
    if pg_database is None:
        pytest.fail("the soak run needs PostgreSQL")
    await run_processes(pg_database, tmp_path, clients=8, moves=400, servers=4)


async def test_repeated_kill_9_cycles_with_a_subscriber_deliver_every_committed_change(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    # Here the dead process's delivery lease runs out in real time (no time is played forward).
    total = 0
    for cycle in range(WEBHOOK_CRASH_CYCLES):
        total += await crash_cycle_with_webhooks(
            database_url, db, tmp_path / f"hooks-{cycle}", load_s=SOAK_LOAD_S, wait_leases=True
        )
    assert total > WEBHOOK_CRASH_CYCLES * 50
