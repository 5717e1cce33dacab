"""One transaction per use case: its unit of work's after-commit hooks and event listeners run once per
commit, never for a rolled-back attempt."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from stockledger.store import outbox
from stockledger.store.db import Database
from stockledger.store.unit_of_work import UnitOfWork
from tests.conftest import new_uuid


class SerializationFailure(Exception):
    sqlstate = "40001"


async def test_after_commit_hooks_run_once_after_a_retried_transaction(db: Database) -> None:
    ran: list[int] = []
    attempts = 0

    async def work(uow: UnitOfWork) -> str:
        nonlocal attempts
        attempts += 1
        uow.after_commit(lambda: ran.append(attempts))
        if attempts == 1:
            raise DBAPIError("UPDATE organizations", None, SerializationFailure())
        assert ran == []  # not before the commit
        return "done"

    assert await db.unit_of_work(work) == "done"
    assert attempts == 2 and ran == [2]


async def test_after_commit_hooks_never_run_when_the_transaction_fails(db: Database) -> None:
    ran: list[bool] = []

    async def work(uow: UnitOfWork) -> None:
        uow.after_commit(lambda: ran.append(True))
        raise ValueError("rejected")

    with pytest.raises(ValueError, match="rejected"):
        await db.unit_of_work(work)
    assert ran == []


async def test_event_listeners_are_called_once_after_a_commit_that_appended_events(db: Database) -> None:
    woken: list[str] = []
    attempts = 0

    def listener() -> None:
        woken.append("woken")

    async def emit(uow: UnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        await outbox.append(uow, new_uuid(), "PurchaseCreated", {"n": attempts}, 1_700_000_000_000)
        await outbox.append(uow, new_uuid(), "PurchaseCreated", {"n": attempts}, 1_700_000_000_000)
        if attempts == 1:
            raise DBAPIError("INSERT INTO outbox", None, SerializationFailure())
        assert woken == [] or attempts > 2  # not before the commit

    async def quiet(uow: UnitOfWork) -> None:
        await uow.conn.exec_driver_sql("SELECT 1")

    db.listen_for_events(listener)
    try:
        await db.unit_of_work(emit)
        assert attempts == 2 and woken == ["woken"]  # once for the commit, not per attempt or event
        await db.unit_of_work(quiet)
        await db.write(lambda conn: conn.exec_driver_sql("SELECT 1"))
        assert woken == ["woken"]  # no events, no wake-up
    finally:
        db.unlisten_for_events(listener)
    await db.unit_of_work(emit)
    assert woken == ["woken"]  # no longer listening


async def test_event_listeners_are_not_called_when_the_transaction_rolls_back(db: Database) -> None:
    woken: list[str] = []

    def listener() -> None:
        woken.append("woken")

    async def emit(uow: UnitOfWork) -> None:
        await outbox.append(uow, new_uuid(), "PurchaseCreated", {}, 1_700_000_000_000)
        raise ValueError("rejected")

    db.listen_for_events(listener)
    try:
        with pytest.raises(ValueError, match="rejected"):
            await db.unit_of_work(emit)
    finally:
        db.unlisten_for_events(listener)
    assert woken == []


async def test_the_organizations_known_to_exist_are_bounded(db: Database) -> None:
    """The cache that skips creating an organization again forgets the least recently used ones."""
    assert db.known_orgs.maxsize == 10_000
