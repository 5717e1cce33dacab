"""The per-request read of API key states: requests that ask while a lookup runs are answered by the
next lookup (which starts after they asked, so it sees a revocation committed before they arrived),
and one lookup answers every request waiting for it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stockledger.service import key_status
from stockledger.service.key_status import KeyStatus

ORG = "00000000-0000-0000-0000-00000000000a"


class FakeDatabase:
    def side_reader(self) -> None:
        return None


async def test_a_request_asking_during_a_lookup_waits_for_the_next_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    revoked = {"k": False}
    lookups: list[list[str]] = []
    release_first = asyncio.Event()

    async def states(_reader: Any, key_ids: list[str]) -> dict[str, tuple[str, int | None]]:
        lookups.append(sorted(key_ids))
        snapshot = {k: (ORG, 1 if revoked[k] else None) for k in key_ids}  # what this read sees
        if len(lookups) == 1:
            await release_first.wait()
        return snapshot

    monkeypatch.setattr(key_status.apikeys, "states", states)
    status = KeyStatus(FakeDatabase())  # type: ignore[arg-type]
    early = asyncio.create_task(status.active("k", ORG))
    await asyncio.sleep(0)  # the first lookup has started and read the key as active
    await asyncio.sleep(0)
    revoked["k"] = True  # revoked, committed while that lookup is in flight
    late = [asyncio.create_task(status.active("k", ORG)) for _ in range(5)]
    await asyncio.sleep(0)
    release_first.set()
    assert await early is True  # asked before the revocation
    assert [await task for task in late] == [False] * 5  # asked after it: refused
    assert lookups == [["k"], ["k"]]  # the five waiting requests shared one lookup


async def test_unknown_keys_and_keys_of_another_organization_are_not_active(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def states(_reader: Any, key_ids: list[str]) -> dict[str, tuple[str, int | None]]:
        return {"mine": (ORG, None), "theirs": ("00000000-0000-0000-0000-00000000000b", None)}

    monkeypatch.setattr(key_status.apikeys, "states", states)
    status = KeyStatus(FakeDatabase())  # type: ignore[arg-type]
    assert await status.active("mine", ORG) is True
    assert await status.active("theirs", ORG) is False
    assert await status.active("unknown", ORG) is False


async def test_a_failed_lookup_fails_its_requests_and_the_next_one_reads_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0

    async def states(_reader: Any, key_ids: list[str]) -> dict[str, tuple[str, int | None]]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database gone")
        return dict.fromkeys(key_ids, (ORG, None))

    monkeypatch.setattr(key_status.apikeys, "states", states)
    status = KeyStatus(FakeDatabase())  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await status.active("k", ORG)
    assert await status.active("k", ORG) is True
