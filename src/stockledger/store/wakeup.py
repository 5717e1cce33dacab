"""Waking the dispatchers of this process when an outbox event commits, instead of at their next poll.

It lives in store/ (which events/ may import, never the reverse) because writing an outbox row is
what asks for the wake-up.

A dispatcher `listen()`s with its wake-up event; every outbox event asks, through `event_written()`,
to have `outbox_committed()` run once its transaction commits (the store's after-commit hooks), which
sets the events of the dispatchers on the running loop. Dispatchers of other processes still find the
event at their next poll.
"""

from __future__ import annotations

import asyncio
import weakref

from stockledger.store.db import after_commit_here

_listeners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[asyncio.Event]] = (
    weakref.WeakKeyDictionary()
)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def listen(wake: asyncio.Event) -> None:
    """Set `wake` whenever an outbox event commits on this loop (until `unlisten`)."""
    loop = asyncio.get_running_loop()
    _listeners.setdefault(loop, set()).add(wake)


def unlisten(wake: asyncio.Event) -> None:
    for events in _listeners.values():
        events.discard(wake)


def outbox_committed() -> None:
    """Wake every dispatcher listening on the running loop."""
    loop = _running_loop()
    if loop is None:
        return
    for wake in _listeners.get(loop, ()):
        wake.set()


def event_written() -> None:
    """An outbox event is being written: wake the dispatchers once its transaction commits (at once
    when no transaction is running: a wake-up too early only costs a pass that finds nothing)."""
    if not after_commit_here(outbox_committed):
        outbox_committed()
