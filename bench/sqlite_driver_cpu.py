"""Benchmark: process CPU per SQL statement through the async engine on SQLite, per driver.

Usage: python -m bench.sqlite_driver_cpu [--statements N] [--runs R] [--drivers driver,aiosqlite] [--uvloop]

`driver` is the service's connection (`store/sqlite_driver.async_creator`), `aiosqlite` plain
aiosqlite opened by SQLAlchemy. Both engines are set up as the service's (WAL, busy timeout, foreign
keys, BEGIN / BEGIN IMMEDIATE). Each run measures, for each driver in turn: N one-row SELECTs in one
read transaction, N INSERTs in one write transaction, and N/10 write transactions of one INSERT
(BEGIN IMMEDIATE, INSERT, COMMIT). CPU is the process's (the event loop's and the connections'
threads together); the figures printed are medians over the runs. `--uvloop` runs on uvloop, the event
loop the server runs on when it is installed (uvicorn's default).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from stockledger.store import sqlite_driver
from stockledger.store.db import SQLITE_BUSY_TIMEOUT_MS

SELECT = text("SELECT id, name FROM item WHERE id = :id")
INSERT = text("INSERT INTO item (name) VALUES (:name)")


def engine(url: str, driver: str, *, immediate: bool) -> AsyncEngine:
    """An engine set up as `store.db.Database._sqlite_engine` sets up the service's."""
    options: dict[str, Any] = {"pool_size": 1, "max_overflow": 0}
    if driver == "driver":
        options["async_creator"] = sqlite_driver.async_creator(
            url, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
    else:
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "isolation_level": None}
    created = create_async_engine(url, **options)

    @event.listens_for(created.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(created.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return created


async def cpu_us(count: int, work: Callable[[], Awaitable[None]]) -> float:
    """Process CPU per unit of `work` (which does `count` units), in µs."""
    started = time.process_time()
    await work()
    return (time.process_time() - started) / count * 1e6


async def one_run(path: Path, driver: str, statements: int) -> dict[str, float]:
    url = f"sqlite+aiosqlite:///{path}"
    writer, reader = engine(url, driver, immediate=True), engine(url, driver, immediate=False)
    try:
        async with writer.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            await conn.exec_driver_sql(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
                "INSERT INTO item (name) SELECT 'item ' || i FROM n"
            )
        async with reader.begin() as conn:  # connect and warm the statement cache outside the figures
            await conn.execute(SELECT, {"id": 1})

        async def selects() -> None:
            async with reader.begin() as conn:
                for i in range(statements):
                    (await conn.execute(SELECT, {"id": i % 1000 + 1})).one()

        async def inserts() -> None:
            async with writer.begin() as conn:
                for i in range(statements):
                    await conn.execute(INSERT, {"name": f"new {i}"})

        transactions = max(1, statements // 10)

        async def writes() -> None:
            for i in range(transactions):
                async with writer.begin() as conn:
                    await conn.execute(INSERT, {"name": f"tx {i}"})

        return {
            "SELECT, one row": await cpu_us(statements, selects),
            "INSERT": await cpu_us(statements, inserts),
            "write transaction (BEGIN IMMEDIATE, INSERT, COMMIT)": await cpu_us(transactions, writes),
        }
    finally:
        await writer.dispose()
        await reader.dispose()


async def main(drivers: list[str], statements: int, runs: int) -> None:
    figures: dict[str, dict[str, list[float]]] = {driver: {} for driver in drivers}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            for driver in drivers:  # alternated, so both see the same machine load
                measured = await one_run(Path(tmp) / f"{driver}-{run}.db", driver, statements)
                for name, value in measured.items():
                    figures[driver].setdefault(name, []).append(value)
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(f"process CPU, µs per statement (per transaction on the last line); median of {runs} runs; {loop}")
    names = list(figures[drivers[0]])
    print(f"{'':56s}" + "".join(f"{driver:>12s}" for driver in drivers))
    for name in names:
        cells = "".join(f"{statistics.median(figures[driver][name]):12.1f}" for driver in drivers)
        print(f"{name:56s}{cells}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--drivers", default="driver,aiosqlite")
    parser.add_argument("--uvloop", action="store_true")
    options = parser.parse_args()
    if options.uvloop:
        import uvloop

        uvloop.install()
    asyncio.run(main(options.drivers.split(","), options.statements, options.runs))
