"""Webhook receiver for scenario 7: `python -m bench.receiver PORT OUT`, a bare asyncio HTTP/1.1
server on 127.0.0.1 that answers every request 200 at once and records, per delivery, its arrival
time (epoch ms), messageUuid and envelope timestamp. SIGTERM writes the records to OUT as JSON lines.

Plain asyncio streams and keep-alive: a framework would spend more CPU per request than the service's
dispatcher, on the same two cores.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import orjson

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"


async def main(port: int, out: Path) -> None:
    records: list[tuple[float, str, str]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                arrived = time.time() * 1000
                writer.write(ANSWER)
                try:
                    envelope = orjson.loads(body)
                except orjson.JSONDecodeError:
                    envelope = {}
                if isinstance(envelope, dict) and "messageUuid" in envelope:  # not the TestMessage
                    records.append((arrived, envelope["messageUuid"], envelope.get("timestamp", "")))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    out.write_bytes(
        b"".join(orjson.dumps({"at": a, "messageUuid": m, "timestamp": t}) + b"\n" for a, m, t in records)
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2])))
