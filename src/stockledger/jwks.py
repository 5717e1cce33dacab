"""Bearer tokens of an external identity provider: RS256/ES256 JWTs checked against its JWKS.

The key set is fetched with an async HTTP client (never blocking the event loop) and cached.
A token whose `kid` is not in the cache triggers one refresh, but at most one refresh per
`min_refresh_interval_s`, so a flood of tokens with made-up key ids cannot hammer the provider.
Key rotation therefore needs no restart: the first token signed by a new key fetches it.

The server's own HS256 tokens (minted by `stockledger token` and `POST /token`) stay valid
alongside when a fallback verifier is given; an HS256 token is only ever checked against the
server secret, never against a provider key (which defeats the "public key as HMAC secret" trick).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import jwt

from stockledger.tokens import Principal, TokenError, TokenExpired, principal_from_claims

log = logging.getLogger("stockledger.jwks")

# Only asymmetric algorithms: the provider's keys are public, so a symmetric one would let anyone sign.
PROVIDER_ALGORITHMS = frozenset({"RS256", "ES256"})
MIN_REFRESH_INTERVAL_S = 30.0  # an unknown kid refreshes at most this often
MAX_KEY_AGE_S = 3600.0  # keys are re-read at least hourly, so a withdrawn key stops working
FETCH_TIMEOUT_S = 5.0
LEEWAY_S = 5  # clock skew tolerated between the provider and this server

Fetch = Callable[[str], Awaitable[dict[str, Any]]]


class Verifier(Protocol):
    """Turns a bearer token into a Principal or raises TokenError."""

    async def verify(self, token: str) -> Principal: ...


async def fetch_jwks(url: str) -> dict[str, Any]:
    """GET the JWK Set document at `url`."""
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_S, follow_redirects=True) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    if not isinstance(document, dict):
        raise ValueError("the JWKS document is not a JSON object")
    return document


@dataclass
class JwksVerifier:
    """Verifies provider tokens against a cached, self-refreshing JWK Set."""

    url: str
    issuer: str | None = None
    audience: str | None = None
    org_claim: str = "org"
    scope_claim: str = "scope"
    fallback: Verifier | None = None  # the server's own HS256 verifier, if its tokens stay valid
    min_refresh_interval_s: float = MIN_REFRESH_INTERVAL_S
    max_key_age_s: float = MAX_KEY_AGE_S
    fetch: Fetch = fetch_jwks
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str | None, jwt.PyJWK] = field(default_factory=dict, init=False)
    _fetched_at: float | None = field(default=None, init=False)  # last successful fetch
    _attempted_at: float | None = field(default=None, init=False)  # last fetch, successful or not
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from None
        alg = header.get("alg")
        if alg == "HS256" and self.fallback is not None:
            return await self.fallback.verify(token)
        if alg not in PROVIDER_ALGORITHMS:
            raise TokenError(f"invalid token: algorithm {alg!r} is not accepted")
        kid = header.get("kid")
        key = await self._key_for(kid if isinstance(kid, str) else None)
        if key.algorithm_name != alg:
            raise TokenError("invalid token: the algorithm does not match the signing key")
        required = ["exp", "sub"]
        if self.issuer:
            required.append("iss")
        if self.audience:
            required.append("aud")
        claims, expired = self._decode(token, key, alg, required, verify_exp=True)
        if expired:  # every other check is made too: expiry is reported for an otherwise good token
            claims, _ = self._decode(token, key, alg, required, verify_exp=False)
        principal = principal_from_claims(claims, self.org_claim, self.scope_claim)
        if expired:
            raise TokenExpired("token has expired")
        return principal

    def _decode(
        self, token: str, key: jwt.PyJWK, alg: str, required: list[str], *, verify_exp: bool
    ) -> tuple[dict[str, Any], bool]:
        """The claims, or ({}, True) when the token has expired (only when `verify_exp`)."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": required, "verify_exp": verify_exp},
                leeway=LEEWAY_S,
            )
        except jwt.ExpiredSignatureError:
            return {}, True
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from None
        return claims, False

    async def _key_for(self, kid: str | None) -> jwt.PyJWK:
        stale = self._fetched_at is None or self.clock() - self._fetched_at >= self.max_key_age_s
        if stale or self._lookup(kid) is None:
            await self._refresh()
        key = self._lookup(kid)
        if key is None:
            raise TokenError("invalid token: unknown signing key")
        return key

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid in self._keys:
            return self._keys[kid]
        if len(self._keys) == 1 and (kid is None or None in self._keys):
            # A provider with a single key may leave `kid` out of its tokens or of its key set.
            return next(iter(self._keys.values()))
        return None

    async def _refresh(self) -> None:
        """Fetch the key set unless one was fetched (or tried) within the rate limit."""
        async with self._lock:  # concurrent requests with a new kid share one fetch
            now = self.clock()
            if self._attempted_at is not None and now - self._attempted_at < self.min_refresh_interval_s:
                return
            self._attempted_at = now
            try:
                document = await self.fetch(self.url)
                key_set = jwt.PyJWKSet.from_dict(document)
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                # Keep the keys we have: a provider hiccup must not lock out every caller.
                log.warning("could not refresh the JWKS", extra={"url": self.url, "error": str(exc)})
                return
            usable = [key for key in key_set.keys if key.algorithm_name in PROVIDER_ALGORITHMS]
            self._keys = {key.key_id: key for key in usable}
            self._fetched_at = now
            log.info("JWKS refreshed", extra={"url": self.url, "keys": len(self._keys)})
