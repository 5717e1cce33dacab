"""Statements sent straight to the driver (store/driver_sql.py) stay inside SQLAlchemy's transaction:
never on their own, rolled back with it, their errors raised as SQLAlchemy's."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store import driver_sql
from stockledger.store.db import Database, is_transient
from stockledger.store.tables import organizations

_INSERT_ORG = driver_sql.Sql(
    postgresql="INSERT INTO organizations (uuid, seq, created_ms) VALUES ($1, 0, 0)",
    sqlite="INSERT INTO organizations (uuid, seq, created_ms) VALUES (?, 0, 0)",
)
_SEQ_OF = driver_sql.Sql(
    postgresql="SELECT seq FROM organizations WHERE uuid = $1",
    sqlite="SELECT seq FROM organizations WHERE uuid = ?",
)


class Boom(Exception):
    pass


async def _exists(db: Database, org: str) -> bool:
    async def read(conn: AsyncConnection) -> bool:
        return (
            await conn.scalar(select(organizations.c.uuid).where(organizations.c.uuid == org))
        ) is not None

    return await db.read(read)


async def test_a_statement_as_the_first_of_its_transaction_is_rolled_back_with_it(db: Database) -> None:
    org = str(uuid.uuid4())

    async def insert_then_fail(conn: AsyncConnection) -> None:
        await driver_sql.fetch(conn, _INSERT_ORG, [org])
        assert [tuple(r) for r in await driver_sql.fetch(conn, _SEQ_OF, [org])] == [
            (0,)
        ]  # sees its own write
        raise Boom

    with pytest.raises(Boom):
        await db.write(insert_then_fail)
    assert not await _exists(db, org)

    async def insert(conn: AsyncConnection) -> None:
        await driver_sql.fetch(conn, _INSERT_ORG, [org])

    await db.write(insert)
    assert await _exists(db, org)


async def test_a_statement_outside_a_transaction_is_refused(db: Database) -> None:
    org = str(uuid.uuid4())
    async with db.write_engine.connect() as conn:
        with pytest.raises(RuntimeError, match="inside a transaction"):
            await driver_sql.fetch(conn, _INSERT_ORG, [org])
    assert not await _exists(db, org)


async def test_driver_errors_are_raised_as_sqlalchemy_errors_naming_the_statement(db: Database) -> None:
    org = str(uuid.uuid4())

    async def insert_twice(conn: AsyncConnection) -> None:
        await driver_sql.fetch(conn, _INSERT_ORG, [org])
        await driver_sql.fetch(conn, _INSERT_ORG, [org])

    with pytest.raises(DBAPIError) as raised:
        await db.write(insert_twice)
    assert "INSERT INTO organizations" in str(raised.value.statement)
    assert not is_transient(raised.value)  # a duplicate key is not retried
    if db.dialect == "postgresql":
        assert getattr(raised.value.orig, "sqlstate", None) == "23505"  # what retries read
    assert not await _exists(db, org)


async def test_observers_see_the_statements_of_their_engine_only_while_observing(db: Database) -> None:
    seen: list[str] = []
    stop = driver_sql.observe(db.write_engine.sync_engine, seen.append)

    async def read(conn: AsyncConnection) -> None:
        await driver_sql.fetch(conn, _SEQ_OF, [str(uuid.uuid4())])

    await db.write(read)
    stop()
    await db.write(read)
    expected = _SEQ_OF.postgresql if db.dialect == "postgresql" else _SEQ_OF.sqlite
    assert seen == [expected]
