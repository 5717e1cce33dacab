"""Movement writes of one organization queue in the process before they enter the database.

They are serial anyway (the organization row lock, held until COMMIT), but N requests waiting in
PostgreSQL hold N pooled connections, and every COMMIT wakes all of them to race for the row lock
again. Waiting here instead costs a suspended coroutine: the database sees at most one movement
write per organization per server process. The row lock stays the guarantee (other processes, other
write paths); this queue only decides who asks for it next, so it holds no state worth invalidating.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# A lock lives as long as some request holds or waits for it.
_queues: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = weakref.WeakValueDictionary()


@asynccontextmanager
async def serialised(org: str) -> AsyncIterator[None]:
    key = (id(asyncio.get_running_loop()), org)
    lock = _queues.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _queues[key] = lock
    async with lock:
        yield
