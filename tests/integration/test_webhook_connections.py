"""Deliveries reuse their connection to a destination; an answer's body is read only up to a limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from stockledger.events.delivery import Deliverer, Message
from tests.webhook_receiver import serving


@dataclass
class KeepAliveReceiver:
    """Answers every request 200 with a short body and keeps the connection open; `endless` answers
    with a chunked body that never ends instead."""

    endless: bool = False
    connections: int = 0
    requests: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            self.requests += 1
            if self.endless:
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                while True:  # until the client hangs up
                    writer.write(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")
                    await writer.drain()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()


@asynccontextmanager
async def keep_alive_receiver(*, endless: bool = False) -> AsyncIterator[KeepAliveReceiver]:
    receiver = KeepAliveReceiver(endless)
    async with serving(receiver.handle) as port:
        receiver.port = port
        yield receiver


def message(n: int) -> Message:
    return Message("org", f"m-{n}", f"id-{n}", "InventoryTrackingStarted", "{}", "2026-11-26T13:18:11.999Z")


async def test_deliveries_to_one_destination_share_one_kept_alive_connection() -> None:
    deliverer = Deliverer(allow_private=True)
    try:
        async with keep_alive_receiver() as receiver:
            outcomes = [await deliverer.deliver(receiver.url, message(n), "key") for n in range(5)]
            assert [o.status for o in outcomes] == [200] * 5
            assert receiver.requests == 5
            assert receiver.connections == 1
    finally:
        await deliverer.aclose()


async def test_an_endless_answer_body_is_cut_off_and_the_delivery_still_counts() -> None:
    deliverer = Deliverer(allow_private=True, timeout_s=5)
    try:
        async with keep_alive_receiver(endless=True) as receiver:
            started = time.monotonic()
            first = await deliverer.deliver(receiver.url, message(1), "key")
            second = await deliverer.deliver(receiver.url, message(2), "key")
            assert (first.ok, first.status, second.ok) == (True, 200, True)
            assert time.monotonic() - started < 2.5  # read up to its limit, not until the timeout
            assert receiver.connections == 2  # a connection cut off mid-answer is not reused
    finally:
        await deliverer.aclose()
