"""A whole-location fetch gives its database connection back before its client has to read a byte."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bench.stream_memory import insert_balances

from stockledger.api.fetch import SPOOL_IN_MEMORY_BYTES
from stockledger.store.db import Database
from tests.conftest import Api

VARIANTS = 10_000  # ~2 MB of JSON: past the in-memory spool, sent in many chunks
ANSWER_STARTED_S = 60.0


def get(path: str, token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", f"Bearer {token}".encode()), (b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def test_a_client_that_stops_reading_holds_no_database_connection(
    app: Any, db: Database, api: Api
) -> None:
    await insert_balances(db, api.org, (await api.locations())["STORE"], VARIANTS)
    stalled = asyncio.Event()
    body_messages = 0
    body_bytes = 0
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # connected until the test ends
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal body_messages, body_bytes
        if message["type"] != "http.response.body":
            return
        body_messages += 1
        body_bytes += len(message.get("body", b""))
        if body_messages == 2:  # the socket's buffers are full and the client reads nothing more
            stalled.set()
            await asyncio.Event().wait()

    answer = asyncio.create_task(app(get("/inventory", api.token()), receive, send))
    try:
        await asyncio.wait_for(stalled.wait(), ANSWER_STARTED_S)
        assert db.read_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert db.write_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert body_bytes < SPOOL_IN_MEMORY_BYTES  # stalled early in a body larger than the spool
    finally:
        answer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await answer
