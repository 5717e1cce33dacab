"""The migrations build exactly the schema `store/tables.py` declares (keys, indexes, columns), so a
constraint changed in one place is changed in the other."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from stockledger.store.db import Database
from stockledger.store.tables import metadata


async def test_the_migrated_database_matches_the_declared_tables(db: Database) -> None:
    async def differences(conn: Any) -> list[Any]:
        def compare(sync_conn: Any) -> list[Any]:
            return list(compare_metadata(MigrationContext.configure(sync_conn), metadata))

        return list(await conn.run_sync(compare))

    assert await db.read(differences) == []


async def test_every_primary_key_is_the_declared_one(db: Database) -> None:
    """Alembic's comparison leaves primary keys out; subscriptions' key is (org_uuid, uuid), say."""

    async def keys(conn: Any) -> dict[str, list[str]]:
        def read(sync_conn: Any) -> dict[str, list[str]]:
            inspector = inspect(sync_conn)
            return {
                t.name: inspector.get_pk_constraint(t.name)["constrained_columns"]
                for t in metadata.sorted_tables
            }

        return dict(await conn.run_sync(read))

    declared = {t.name: [c.name for c in t.primary_key.columns] for t in metadata.sorted_tables}
    assert await db.read(keys) == declared
