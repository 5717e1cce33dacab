"""The server's bearer-token verifier remembers tokens it verified, and never weakens verification:
an expired token, an API key or an altered token is refused exactly as a fresh verification would."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from typing import Any

import pytest

from stockledger.api import state
from stockledger.api.state import TokenVerifier
from stockledger.tokens import (
    LEEWAY_S,
    TokenError,
    mint_access_token,
    mint_api_key,
    verify_access_token_expiry,
)

SECRET = "cache-secret-" + "c" * 40


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Tokens that went through full (signature and claims) verification."""
    seen: list[str] = []
    real = state.verify_access_token_expiry

    def counting(secret: str, token: str) -> Any:
        seen.append(token)
        return real(secret, token)

    monkeypatch.setattr(state, "verify_access_token_expiry", counting)
    return seen


async def test_a_verified_token_is_remembered(verifications: list[str]) -> None:
    verifier = TokenVerifier(SECRET)
    org = str(uuid.uuid4())
    token = mint_access_token(SECRET, org=org, sub="someone")
    first = await verifier.verify(token)
    again = await verifier.verify(token)
    assert first == again and first.org == org and first.sub == "someone"
    assert verifications == [token]


async def test_a_remembered_token_is_refused_once_it_expires(verifications: list[str]) -> None:
    while time.time() % 1 > 0.5:  # leave the token at least half a second of life
        await asyncio.sleep(0.05)
    expires = math.floor(time.time()) + 1 - LEEWAY_S  # acceptable until that second ends
    token = mint_access_token(SECRET, org=str(uuid.uuid4()), ttl_s=60, now_s=expires - 60)
    verifier = TokenVerifier(SECRET)
    await verifier.verify(token)
    await verifier.verify(token)
    assert verifications == [token]  # the second use came from memory
    await asyncio.sleep(max(0.0, expires + LEEWAY_S - time.time()) + 0.01)
    with pytest.raises(TokenError):
        verify_access_token_expiry(SECRET, token)  # what a fresh verification says now
    with pytest.raises(TokenError, match="expired"):
        await verifier.verify(token)


async def test_memory_never_outlives_the_expiry_on_the_verifiers_clock(verifications: list[str]) -> None:
    issued = int(time.time())
    now = [float(issued)]
    verifier = TokenVerifier(SECRET, clock=lambda: now[0])
    token = mint_access_token(SECRET, org=str(uuid.uuid4()), ttl_s=60, now_s=issued)
    await verifier.verify(token)
    now[0] += 60 + LEEWAY_S - 1
    await verifier.verify(token)
    assert verifications == [token]
    now[0] += 1  # exp + leeway: PyJWT's rule says expired
    await verifier.verify(token)  # verified afresh (PyJWT's own clock still accepts it) ...
    assert verifications == [token, token]
    assert len(verifier._verified) == 0  # ... and not remembered past its expiry


async def test_api_keys_and_altered_tokens_are_never_accepted(verifications: list[str]) -> None:
    verifier = TokenVerifier(SECRET)
    org = str(uuid.uuid4())
    token = mint_access_token(SECRET, org=org, sub="someone")
    await verifier.verify(token)
    _, key = mint_api_key(SECRET, org=org, sub="someone", scopes="READ:PRODUCT WRITE:PRODUCT")
    header, payload, signature = token.split(".")
    altered = [
        key,  # revocable credentials are exchanged at POST /token, never used as bearer tokens
        f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        mint_access_token("another-" + "x" * 40, org=org, sub="someone"),
    ]
    for bad in altered:
        for _ in range(2):
            with pytest.raises(TokenError):
                await verifier.verify(bad)
    assert verifications == [token, *[bad for bad in altered for _ in range(2)]]
