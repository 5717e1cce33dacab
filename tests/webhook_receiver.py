"""A tiny real HTTP receiver on 127.0.0.1 for webhook tests: records raw requests, answers as told."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import orjson


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes  # the raw bytes as they arrived
    at_ms: int | None = None  # the injected clock's time when it arrived, if a clock was given
    arrived_s: float = 0.0  # time.monotonic() when it had arrived in full
    answered_s: float | None = None  # time.monotonic() when its answer was about to be written

    def json(self) -> dict[str, object]:
        parsed = orjson.loads(self.body)
        assert isinstance(parsed, dict)
        return parsed


@dataclass
class Receiver:
    """Answers each request with `status_for(request_number)`; `hang` makes it never answer;
    `before_answer(request_number)` is awaited before answering (a slow receiver)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    status_for: Callable[[int], int] = lambda _n: 200
    hang: asyncio.Event | None = None  # while set, requests are held without an answer
    before_answer: Callable[[int], Awaitable[None]] | None = None
    clock: object | None = None
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def events(self) -> list[Received]:
        """Everything except the TestMessage of subscription creation."""
        return [r for r in self.received if r.json().get("eventName") != "TestMessage"]

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Received]:
        async def enough() -> None:
            async with self.arrived:
                await self.arrived.wait_for(lambda: len(self.events()) >= count)

        await asyncio.wait_for(enough(), timeout_s)
        return self.events()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        now = getattr(self.clock, "now_ms", None)
        received = Received(path, headers, body, now() if now else None, time.monotonic())
        self.received.append(received)
        number = len(self.received)
        async with self.arrived:
            self.arrived.notify_all()
        if self.hang is not None and self.hang.is_set():
            await asyncio.sleep(3600)
        if self.before_answer is not None:
            await self.before_answer(number)
        status = self.status_for(number)
        received.answered_s = time.monotonic()
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handle: Handler) -> AsyncIterator[int]:
    """Serve `handle` on a random port of 127.0.0.1 (yields the port). Each connection's handler ends
    quietly when the client hangs up and closes its writer; on exit the server stops and handlers
    still running are cancelled."""
    handlers: set[asyncio.Task[None]] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            handlers.discard(task)

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


@asynccontextmanager
async def running_receiver(**options: object) -> AsyncIterator[Receiver]:
    """Start a receiver on a random port of 127.0.0.1; always stopped on exit."""
    receiver = Receiver(**options)  # type: ignore[arg-type]
    async with serving(receiver._handle) as port:
        receiver.port = port
        yield receiver
