"""Whether the API key behind an access token is still active, read afresh for every request.

Revoking a key must end its access tokens at once in every server process, so no process may
remember a key's state: each request asks the database (an indexed lookup on the side reader,
store/side_reads.py). Requests that ask while a lookup is running are answered together by the
next one, which starts after they asked (so it sees every revocation committed before they
arrived): under load one statement serves many requests, and none waits for more than two.
"""

from __future__ import annotations

import asyncio

from stockledger.store import apikeys
from stockledger.store.db import Database

_Record = tuple[str, int | None]  # (organization, revoked_ms) of a recorded key


class KeyStatus:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._asked: dict[str, list[asyncio.Future[_Record | None]]] = {}
        self._lookup: asyncio.Task[None] | None = None

    async def active(self, key_id: str, org: str) -> bool:
        """True when `key_id` is a recorded key of `org` that is not revoked, as committed now."""
        waiting: asyncio.Future[_Record | None] = asyncio.get_running_loop().create_future()
        self._asked.setdefault(key_id, []).append(waiting)
        if self._lookup is None or self._lookup.done():
            self._lookup = asyncio.create_task(self._answer_everyone(), name="stockledger-key-status")
        record = await waiting
        return record is not None and record[0] == org and record[1] is None

    async def _answer_everyone(self) -> None:
        while self._asked:
            asked, self._asked = self._asked, {}
            try:
                found = await apikeys.states(self.db.side_reader(), list(asked))
            except Exception as exc:
                for futures in asked.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for key_id, futures in asked.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found.get(key_id))
