"""Readiness reflects whether the database accepts writes, not only whether it answers reads: a
database that refuses writes (read-only, full) makes `/readyz` answer 503 while `/healthz` stays 200."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from stockledger.app import create_app
from stockledger.store.db import Database
from tests.conftest import make_settings

# What makes every connection of a database refuse writes while reads go on, as a read-only file
# system or a server switched to read-only does (the database itself refuses, nothing is faked).
READ_ONLY_SESSION = {
    "sqlite": "PRAGMA query_only = ON",
    "postgresql": "SET default_transaction_read_only = on",
}


def refusing_writes(url: str) -> Database:
    database = Database(url, pool_size=2)
    statement = READ_ONLY_SESSION[database.dialect]

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()

    for engine in {database.write_engine, database.read_engine}:
        event.listen(engine.sync_engine, "connect", read_only)
    return database


async def readyz(database: Database, database_url: str, tmp_path: Path) -> httpx.Response:
    app = create_app(make_settings(database_url, tmp_path), db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/healthz")).status_code == 200
        return await http.get("/readyz")


async def test_readyz_is_unavailable_while_the_database_refuses_writes(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    healthy = await readyz(db, database_url, tmp_path)  # the migrated test database: ready
    assert healthy.status_code == 200 and healthy.json()["status"] == "ready"
    read_only = refusing_writes(db.url)
    try:
        response = await readyz(read_only, database_url, tmp_path)
    finally:
        await read_only.dispose()
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "unavailable"
    assert "write" in body["reason"]


async def test_the_write_probe_leaves_no_row_behind(db: Database, database_url: str, tmp_path: Path) -> None:
    """Exports and `stockledger import`'s empty-database check see nothing of the probe."""
    from sqlalchemy import func, select

    from stockledger.store.tables import write_probes

    for _ in range(3):
        assert (await readyz(db, database_url, tmp_path)).status_code == 200

    async def count(conn: Any) -> int:
        return int(await conn.scalar(select(func.count()).select_from(write_probes)))

    assert await db.read(count) == 0
