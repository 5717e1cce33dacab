"""uvicorn's HTTP protocol plus a send timeout: a client that takes no bytes for too long is reset.

uvicorn applies backpressure by pausing: once a connection's write buffer is above its high-water
mark the transport calls `pause_writing`, and the ASGI `send` waits until `resume_writing`. A
client that stops reading keeps that wait — and whatever the response holds while it waits — for
ever, and asyncio's (and uvloop's) `close()` waits for the buffer to drain before it lets the
socket go, so not even an error ends it. Here a watchdog runs while bytes wait for the client:
when the client has taken none of them for `send_timeout_s`, the connection is reset (RST, the
kernel's buffers dropped), the pending `send` returns and the response ends as for a client that
left. A client that takes some, however slowly, is left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import socket
import struct
import termios
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from stockledger.config import Settings
from stockledger.metrics import SEND_TIMEOUTS

log = logging.getLogger("stockledger.http")
# SO_LINGER on with 0 s: close() resets the connection and drops what the kernel still buffers,
# instead of leaving an orphan socket that keeps offering the client the rest of the answer.
RESET_ON_CLOSE = struct.pack("ii", 1, 0)


@cache
def configured_send_timeout_s() -> float:
    """STOCKLEDGER_SEND_TIMEOUT_S of this process (`serve` has checked it; workers inherit it)."""
    return Settings.from_env().send_timeout_s


class HttpProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` (what uvicorn picks by default) with the send timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.send_timeout_s = configured_send_timeout_s()
        self._watchdog: asyncio.TimerHandle | None = None
        self._waiting_bytes = 0  # not yet taken by the client when the watchdog was last armed

    def pause_writing(self) -> None:
        super().pause_writing()
        self._watch()

    def resume_writing(self) -> None:
        super().resume_writing()
        self._unwatch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # An answer's last bytes may wait below the high-water mark, where nothing pauses; a
        # close() after it (keep-alive timeout, `Connection: close`) would wait for them for ever.
        if self.transport.get_write_buffer_size():
            self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._unwatch()
        super().connection_lost(exc)

    def _watch(self) -> None:
        if self.send_timeout_s <= 0 or self._watchdog is not None:
            return
        self._waiting_bytes = self._not_taken_bytes()
        self._watchdog = self.loop.call_later(self.send_timeout_s, self._check)

    def _unwatch(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _not_taken_bytes(self) -> int:
        """Bytes written and not yet acknowledged by the client: the transport's buffer plus what
        the kernel still holds. While writing is paused nothing is added, so a smaller count means
        the client took some (its kernel acknowledges only what fits in its receive buffer)."""
        return self.transport.get_write_buffer_size() + _kernel_unacknowledged_bytes(
            self.transport.get_extra_info("socket")
        )

    def _check(self) -> None:
        self._watchdog = None
        if self.transport.get_write_buffer_size() == 0:
            return  # the kernel holds the rest, and a close() no longer waits for it
        waiting = self._not_taken_bytes()
        if waiting < self._waiting_bytes:  # the client took some: slow, not stalled
            self._watch()
            return
        SEND_TIMEOUTS.inc()
        log.warning(
            "send timeout: reset a connection whose client took no bytes",
            extra={"send_timeout_s": self.send_timeout_s, "waiting_bytes": waiting},
        )
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
        self.transport.abort()


def _kernel_unacknowledged_bytes(sock: Any) -> int:
    """What the kernel's send queue holds for the connection (Linux: SIOCOUTQ, sent or not, not yet
    acknowledged); 0 where the system cannot tell, leaving only the transport's buffer to judge by."""
    if sock is None:
        return 0
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except OSError:
        return 0
    return int(struct.unpack("i", raw)[0])
