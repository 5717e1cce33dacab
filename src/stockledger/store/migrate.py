"""Applying Alembic migrations programmatically (used by `stockledger migrate` and `serve`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from stockledger.store.db import prepare_sqlite_file

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Several server processes may start at once against one PostgreSQL: one migrates, the others wait.
_PG_MIGRATION_LOCK_ID = 7_345_001


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_known_revision(revision: str) -> bool:
    """Whether `revision` is one of this release's migrations (False for a newer release's)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:  # "Can't locate revision"
        return False


def _upgrade(sync_conn: Any, cfg: Config) -> list[str]:
    """Upgrade to the newest schema; the revisions applied, oldest first."""
    before = MigrationContext.configure(sync_conn).get_current_revision()
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")
    script = ScriptDirectory.from_config(cfg)
    applied = [rev.revision for rev in script.iterate_revisions("head", before or "base")]
    return list(reversed(applied))


async def upgrade(url: str) -> list[str]:
    """Bring the database at `url` to the newest schema (idempotent, safe under concurrency on
    PostgreSQL); the revisions this call applied, oldest first (none when it was up to date)."""
    if url.startswith("sqlite"):
        prepare_sqlite_file(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_ID})"))
            return await conn.run_sync(_upgrade, alembic_config())
    finally:
        await engine.dispose()


async def current_revision(conn: AsyncConnection) -> str | None:
    def _current(sync_conn: Any) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    return await conn.run_sync(_current)
