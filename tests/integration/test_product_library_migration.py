"""Migration 0012_product_library: every catalog entry of an older database becomes a library
product with its variants, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest_asyncio
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from stockledger.service import catalog, products
from stockledger.service.context import Actor
from stockledger.store.db import Database
from stockledger.store.migrate import alembic_config, upgrade
from tests.conftest import PG_ADMIN_DSN, _pg_url, make_settings

BEFORE = "0011_images_purchases"
ORG = str(uuid.uuid4())
NAMED, UNNAMED = str(uuid.uuid4()), str(uuid.uuid4())
# Variant UUIDs chosen so that UUID order differs from insertion order.
V_B, V_A = "bbbbbbbb-0000-4000-8000-000000000000", "aaaaaaaa-0000-4000-8000-000000000000"


@pytest_asyncio.fixture(loop_scope="session")
async def old_database(backend: str, database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own at the revision before the library, as an async URL."""
    if backend == "sqlite":
        yield make_settings(f"sqlite:///{tmp_path / 'old.db'}", tmp_path).effective_database_url()
        return
    name = f"stockledger_migration_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield make_settings(_pg_url(name), tmp_path).effective_database_url()
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def migrate_to(url: str, revision: str) -> None:
    engine = create_async_engine(url)

    def run(sync_conn: Any) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
            await conn.execute(
                text(
                    "INSERT INTO catalog_products (org_uuid, product_uuid, name, updated_ms)"
                    " VALUES (:o, :p, :n, 1000)"
                ),
                [{"o": ORG, "p": NAMED, "n": "Candle"}, {"o": ORG, "p": UNNAMED, "n": None}],
            )
            await conn.execute(
                text(
                    "INSERT INTO catalog_variants (org_uuid, product_uuid, variant_uuid, name, sku, barcode,"
                    " sort_key, updated_ms) VALUES (:o, :p, :v, :n, :s, :b, NULL, 1000)"
                ),
                [
                    {"o": ORG, "p": NAMED, "v": V_B, "n": "Rose", "s": "CAN-R", "b": None},
                    {"o": ORG, "p": NAMED, "v": V_A, "n": "Vanilla", "s": "CAN-V", "b": "501"},
                ],
            )
    finally:
        await engine.dispose()


async def test_catalog_entries_become_library_products(old_database: str) -> None:
    await migrate_to(old_database, BEFORE)
    await upgrade(old_database)
    db = Database(old_database, pool_size=2)
    actor = Actor(ORG, str(uuid.uuid4()))
    try:
        named = await products.get_product(db, actor, NAMED)
        assert named.name == "Candle" and named.created_ms == 1000 and len(named.etag) == 32
        assert [(v.uuid, v.name, v.sku, v.barcode) for v in named.variants] == [
            (V_A, "Vanilla", "CAN-V", "501"),
            (V_B, "Rose", "CAN-R", None),
        ]
        unnamed = await products.get_product(db, actor, UNNAMED)
        assert unnamed.name is None and unnamed.variants == () and unnamed.etag != named.etag
        assert await products.count_products(db, actor) == 2
        # and it is written like any library product afterwards
        updated = await products.update_product(db, actor, NAMED, {"name": "Big candle"})
        assert updated.name == "Big candle" and updated.variants == named.variants
        assert (await catalog.get_product(db, actor, NAMED)).name == "Big candle"
    finally:
        await db.dispose()
