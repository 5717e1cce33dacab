"""Graceful shutdown: stop callbacks for background tasks, and a clean exit status on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from types import FrameType

log = logging.getLogger("stockledger.shutdown")

StopCallback = Callable[[], Awaitable[None]]


async def run_stop_callbacks(callbacks: list[StopCallback], timeout_s: float) -> None:
    """Run every callback (last registered first), each bounded by `timeout_s`; failures are logged.

    One stuck or failing task must not keep the others (or the database pool) from closing.
    """
    for callback in reversed(callbacks):
        name = getattr(callback, "__qualname__", repr(callback))
        try:
            await asyncio.wait_for(callback(), timeout=timeout_s)
        except TimeoutError:
            log.error("stop callback timed out", extra={"callback": name, "timeout_s": timeout_s})
        except Exception:
            log.exception("stop callback failed", extra={"callback": name})


SIGINT_EXIT_STATUS = 128 + signal.SIGINT  # the shell's convention for "stopped by Ctrl-C"


def _exit_cleanly(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(SIGINT_EXIT_STATUS if signum == signal.SIGINT else 0)


def exit_cleanly_after_signals() -> None:
    """Make a signal-initiated shutdown end quietly: status 0 after SIGTERM, 130 after Ctrl-C.

    uvicorn drains connections on a signal, then re-raises it with the handler that was in place
    before it started. Without this handler the process would die "killed by SIGTERM" (which
    process managers report as a failure although the shutdown was orderly) or print a
    KeyboardInterrupt traceback.
    """
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
