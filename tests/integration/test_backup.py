"""`stockledger export` / `import`: the whole ledger round-trips, across backends too."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from typer.testing import CliRunner

from stockledger.cli import app as cli
from stockledger.config import Settings
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade
from stockledger.store.tables import metadata
from tests.conftest import TEST_SECRET, Api, new_uuid


async def database_digest(url: str) -> str:
    db = Database(Settings(database_url=url).effective_database_url(), pool_size=1)

    async def work(conn: AsyncConnection) -> str:
        digest = hashlib.sha256()
        for table in metadata.sorted_tables:
            rows = (await conn.execute(select(table))).all()
            digest.update(table.name.encode() + repr(sorted(repr(tuple(r)) for r in rows)).encode())
        return digest.hexdigest()

    try:
        return await db.read(work)
    finally:
        await db.dispose()


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"STOCKLEDGER_SECRET": TEST_SECRET})
    assert result.exit_code == 0, result.output
    return result.output


async def test_export_then_import_into_an_empty_sqlite_database_reproduces_every_row(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    for n in range(5):
        assert (
            await api.move(product, new_uuid(), locs["SUPPLIER"], locs["STORE"], f"{n}.25")
        ).status_code == 200
    export = tmp_path / "ledger.jsonl"
    await asyncio.to_thread(run_cli, "export", str(export), "--database-url", database_url)

    target = f"sqlite:///{tmp_path / 'restored.db'}"
    await upgrade(Settings(database_url=target).effective_database_url())
    await asyncio.to_thread(run_cli, "import", str(export), "--database-url", target)
    assert await database_digest(target) == await database_digest(database_url)


async def test_import_refuses_a_database_that_is_not_empty(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    await api.locations()
    export = tmp_path / "ledger.jsonl"
    await asyncio.to_thread(run_cli, "export", str(export), "--database-url", database_url)
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["import", str(export), "--database-url", database_url]
    )
    assert result.exit_code == 2
    assert "not empty" in result.output


@pytest.mark.parametrize("content", [b"", b"not json\n", b'{"format": "other"}\n'])
async def test_import_refuses_a_file_that_is_not_an_export(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    target = f"sqlite:///{tmp_path / 'target.db'}"
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["import", str(bad), "--database-url", target])
    assert result.exit_code == 2
    assert "export" in result.output
