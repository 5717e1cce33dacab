"""Migration 0011 on a database with purchases recorded before it: each gets its document back from its
PurchaseCreated event, its time, receipt number and refund link from that document, and the
documented defaults when the event is gone."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest_asyncio
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from stockledger.config import Settings
from stockledger.service import purchase_reads
from stockledger.store.db import Database
from stockledger.store.migrate import alembic_config, head_revision
from stockledger.store.tables import purchases
from tests.api.purchase_helpers import REFUND, SALE
from tests.conftest import PG_ADMIN_DSN, TEST_SECRET, _pg_url

BEFORE = "0009_organization_profile"
ORG, OTHER_ORG = str(uuid.uuid4()), str(uuid.uuid4())
MINIMAL, LOST, ELSEWHERE = (str(uuid.uuid4()) for _ in range(3))
RECORDED_MS = 1_765_000_000_000


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_url(backend: str, tmp_path: Path, database_url: str) -> AsyncIterator[str]:
    """An empty database of its own, as a SQLAlchemy async URL (`database_url`: PostgreSQL is
    reachable, or the backend is skipped)."""
    if backend == "sqlite":
        yield Settings(
            database_url=f"sqlite:///{tmp_path / 'old.db'}", secret=TEST_SECRET
        ).effective_database_url()
        return
    name = f"stockledger_fill_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(database_url=_pg_url(name), secret=TEST_SECRET).effective_database_url()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def migrate(url: str, revision: str, *, down: bool = False) -> None:
    def run(sync_conn: Any) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(cfg, revision)

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def record_the_old_way(
    conn: AsyncConnection, org: str, purchase_uuid: str, at_ms: int, event: Any
) -> None:
    """What recording wrote before 0011: the answer, and the PurchaseCreated event (when `event`)."""
    await conn.execute(
        text(
            "INSERT INTO purchases (org_uuid, purchase_uuid, channel, result, created_ms) "
            "VALUES (:org, :uuid, 'API', :result, :at)"
        ),
        {
            "org": org,
            "uuid": purchase_uuid,
            "at": at_ms,
            "result": json.dumps({"purchaseUuid": purchase_uuid, "applied": [], "skipped": []}),
        },
    )
    if event is not None:
        await append_event(conn, org, "PurchaseCreated", event, at_ms)


async def append_event(conn: AsyncConnection, org: str, name: str, payload: Any, at_ms: int) -> None:
    message = str(uuid.uuid4())
    await conn.execute(
        text(
            "INSERT INTO outbox (org_uuid, event_name, message_uuid, message_id, payload, timestamp, "
            "created_ms) VALUES (:org, :name, :message, :message, :payload, '2025-12-06T05:46:40.000Z', :at)"
        ),
        {"org": org, "name": name, "message": message, "payload": json.dumps(payload), "at": at_ms},
    )


async def test_purchases_recorded_before_get_their_documents_back(fresh_url: str) -> None:
    await migrate(fresh_url, BEFORE)
    database = Database(fresh_url)
    try:

        async def old_data(conn: AsyncConnection) -> None:
            for org in (ORG, OTHER_ORG):
                await conn.execute(
                    text("INSERT INTO organizations (uuid, created_ms) VALUES (:org, :at)"),
                    {"org": org, "at": RECORDED_MS},
                )
            await append_event(conn, ORG, "InventoryBalanceChanged", {"purchaseUuid": LOST}, RECORDED_MS)
            await record_the_old_way(conn, ORG, SALE["purchaseUuid"], RECORDED_MS, SALE)
            await record_the_old_way(conn, ORG, REFUND["purchaseUuid"], RECORDED_MS + 1, REFUND)
            await record_the_old_way(
                conn, ORG, MINIMAL, RECORDED_MS + 2, {"purchaseUuid": MINIMAL.upper(), "products": []}
            )
            await record_the_old_way(conn, ORG, LOST, RECORDED_MS + 3, None)
            await record_the_old_way(
                conn, OTHER_ORG, ELSEWHERE, RECORDED_MS, {"purchaseUuid": ELSEWHERE, "products": []}
            )
            # A second event for the same purchase does not replace the first document.
            await append_event(conn, ORG, "PurchaseCreated", {**SALE, "purchaseNumber": 1}, RECORDED_MS + 9)

        await database.write(old_data)
        await migrate(fresh_url, head_revision() or "head")

        async def rows(conn: AsyncConnection) -> dict[str, Any]:
            p = purchases.c
            stmt = select(
                p.purchase_uuid, p.document, p.timestamp_ms, p.purchase_number, p.refunds_purchase_uuid
            )
            return {row[0]: row[1:] for row in (await conn.execute(stmt)).all()}

        found = await database.read(rows)
        sale_doc, sale_ms, sale_number, _ = found[SALE["purchaseUuid"]]
        assert json.loads(sale_doc) == SALE and (sale_ms, sale_number) == (SALE["timestamp"], 12776)
        assert found[REFUND["purchaseUuid"]][1:] == (REFUND["timestamp"], 12778, SALE["purchaseUuid"])
        assert found[MINIMAL][1:] == (RECORDED_MS + 2, 12779, None)  # the organization's next number
        assert found[LOST] == (None, RECORDED_MS + 3, 12780, None)
        assert found[ELSEWHERE][1:] == (RECORDED_MS, 1, None)

        sale = await purchase_reads.one(database, ORG, SALE["purchaseUuid"])
        assert sale["refundedByPurchaseUUIDs1"] == [REFUND["purchaseUuid"]]
        assert sale["products"][0]["name"] == "T-shirt"
    finally:
        await database.dispose()


async def test_the_migration_goes_down_and_up_again(fresh_url: str) -> None:
    await migrate(fresh_url, head_revision() or "head")
    await migrate(fresh_url, BEFORE, down=True)
    await migrate(fresh_url, head_revision() or "head")
