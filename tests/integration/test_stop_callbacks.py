"""The lifespan's shutdown path stops background tasks through AppState stop callbacks."""

from __future__ import annotations

import asyncio
from pathlib import Path

from stockledger.app import create_app
from stockledger.plumbing import AppState
from stockledger.store.db import Database
from tests.conftest import make_settings


async def test_stop_callbacks_run_on_shutdown_last_registered_first(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    app = create_app(make_settings(database_url, tmp_path), db=db)
    state: AppState = app.state.stockledger
    calls: list[str] = []

    async def stop_dispatcher() -> None:
        calls.append("dispatcher")

    async def stop_other() -> None:
        calls.append("other")

    state.on_shutdown(stop_dispatcher)
    state.on_shutdown(stop_other)
    async with app.router.lifespan_context(app):
        assert calls == []  # nothing stops while the app serves
    assert calls == ["other", "dispatcher"]


async def test_a_failing_or_stuck_stop_callback_does_not_block_the_others(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    app = create_app(make_settings(database_url, tmp_path, shutdown_timeout_s=0.05), db=db)
    state: AppState = app.state.stockledger
    stopped: list[str] = []

    async def stops() -> None:
        stopped.append("ok")

    async def hangs() -> None:
        await asyncio.Event().wait()

    async def fails() -> None:
        raise RuntimeError("broken task")

    state.on_shutdown(stops)
    state.on_shutdown(hangs)
    state.on_shutdown(fails)
    async with app.router.lifespan_context(app):
        pass
    assert stopped == ["ok"]
