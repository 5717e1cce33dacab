"""Files that hold secrets (the SQLite database with its -wal and -shm, the export file) are readable
by their owner only: created 0600 in a data directory created 0700, whatever the umask."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.config import Settings
from stockledger.store import apikeys
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade
from tests.conftest import TEST_SECRET, Api
from tests.integration.test_backup import run_cli


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The usual umask (0022), which would leave new files world-readable (0644)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
async def test_the_data_directory_and_the_sqlite_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, secret=TEST_SECRET)
    url = settings.effective_database_url()
    await upgrade(url)
    db = Database(url, pool_size=1)
    try:

        async def work(conn: AsyncConnection) -> None:
            await apikeys.insert(
                conn, "k1", "00000000-0000-0000-0000-000000000001", "someone", "READ:PRODUCT"
            )

        await db.write(work)
        files = {
            name: data_dir / name for name in ("stockledger.db", "stockledger.db-wal", "stockledger.db-shm")
        }
        assert all(path.exists() for path in files.values())  # the server holds them open
        assert {name: oct(mode(path)) for name, path in files.items()} == dict.fromkeys(files, oct(0o600))
    finally:
        await db.dispose()
    assert oct(mode(data_dir)) == oct(0o700)


@pytest.mark.usefixtures("permissive_umask")
async def test_an_older_database_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # as an earlier release left it: 0644, with its WAL
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x INTEGER)")
    os.chmod(path, 0o644)
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url, pool_size=1)
    try:
        await upgrade(url)
        await db.read(lambda conn: conn.exec_driver_sql("SELECT 1"))
        for suffix in ("", "-wal", "-shm"):
            sibling = Path(f"{path}{suffix}")
            if sibling.exists():
                assert oct(mode(sibling)) == oct(0o600), sibling.name
    finally:
        await db.dispose()
    assert oct(mode(path)) == oct(0o600)


@pytest.mark.usefixtures("permissive_umask")
async def test_the_export_file_is_private(api: Api, database_url: str, tmp_path: Path) -> None:
    await api.locations()
    fresh = tmp_path / "fresh.jsonl"
    await asyncio.to_thread(run_cli, "export", str(fresh), "--database-url", database_url)
    assert oct(mode(fresh)) == oct(0o600)
    existing = tmp_path / "existing.jsonl"
    existing.write_text("an older export\n")
    os.chmod(existing, 0o644)
    await asyncio.to_thread(run_cli, "export", str(existing), "--database-url", database_url)
    assert oct(mode(existing)) == oct(0o600)
    assert existing.read_bytes().startswith(b'{"format"')
