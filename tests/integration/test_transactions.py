"""One transaction per use case: after-commit hooks run once per commit, never for a rolled-back attempt."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database, after_commit, after_commit_here


class SerializationFailure(Exception):
    sqlstate = "40001"


async def test_after_commit_hooks_run_once_after_a_retried_transaction(db: Database) -> None:
    ran: list[int] = []
    attempts = 0

    async def work(conn: AsyncConnection) -> str:
        nonlocal attempts
        attempts += 1
        after_commit(conn, lambda: ran.append(attempts))
        if attempts == 1:
            raise DBAPIError("UPDATE organizations", None, SerializationFailure())
        return "done"

    assert await db.write(work) == "done"
    assert attempts == 2 and ran == [2]


async def test_after_commit_hooks_never_run_when_the_transaction_fails(db: Database) -> None:
    ran: list[bool] = []

    async def work(conn: AsyncConnection) -> None:
        after_commit(conn, lambda: ran.append(True))
        raise ValueError("rejected")

    with pytest.raises(ValueError, match="rejected"):
        await db.write(work)
    assert ran == []


async def test_hooks_registered_without_the_connection_run_once_after_the_commit(db: Database) -> None:
    ran: list[str] = []

    def hook() -> None:
        ran.append("hook")

    async def work(conn: AsyncConnection) -> None:
        assert after_commit_here(hook)
        assert after_commit_here(hook)  # registered once however often it is asked
        assert ran == []

    await db.write(work)
    assert ran == ["hook"]


async def test_hooks_registered_without_the_connection_never_run_on_a_rollback(db: Database) -> None:
    ran: list[bool] = []

    async def work(conn: AsyncConnection) -> None:
        assert after_commit_here(lambda: ran.append(True))
        raise ValueError("rejected")

    with pytest.raises(ValueError, match="rejected"):
        await db.write(work)
    assert ran == []
    assert not after_commit_here(lambda: ran.append(True))  # outside a transaction: nothing registered
    assert ran == []
