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


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def exit_zero_after_sigterm() -> None:
    """Make a SIGTERM-initiated shutdown end with status 0.

    uvicorn drains connections on SIGTERM, then re-raises the signal with the handler that was in
    place before it started; without this handler the process would die "killed by SIGTERM", which
    process managers report as a failure although the shutdown was orderly.
    """
    signal.signal(signal.SIGTERM, _exit_cleanly)
