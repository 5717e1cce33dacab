"""What every route needs from the running app: settings, database, token verifier, stop hooks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cachetools import TLRUCache
from fastapi import Request

from stockledger.api.ratelimit import RateLimiter
from stockledger.config import Settings
from stockledger.domain.low_stock import default_level_units
from stockledger.jwks import JwksVerifier, Verifier
from stockledger.shutdown import StopCallback
from stockledger.store.db import Database
from stockledger.store.key_status import KeyStatus
from stockledger.store.sql import now_ms
from stockledger.tokens import LEEWAY_S, Principal, verify_access_token_expiry

VERIFIED_TOKENS_CACHED = 4096  # least recently used tokens are dropped beyond this


@dataclass
class TokenVerifier:
    """Verifies bearer tokens. HS256 with the server secret; an external JWKS verifier can replace it.

    A token that verified is remembered (by its exact text, signature included) until it expires, so a
    client reusing its token is not re-verified on every request. Verification is stateless, so this
    accepts exactly what verifying again would: the signature and claims cannot change for the same
    text, and the expiry is checked on every use with the same leeway. (API keys are never bearer
    tokens: they are refused here and exchanged at POST /token. Whether the key an access token
    names is still active is not a property of the text: `api/auth.authenticate` reads it from the
    database on every use, outside this memory.)"""

    secret: str
    clock: Callable[[], float] = time.time  # the clock PyJWT checks `exp` against
    _verified: TLRUCache[str, tuple[Principal, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # usable while now < exp + LEEWAY_S, the rule PyJWT applies (expired when exp <= now - leeway)
        self._verified = TLRUCache(
            VERIFIED_TOKENS_CACHED, ttu=lambda _token, hit, _now: hit[1] + LEEWAY_S, timer=self.clock
        )

    async def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None:
            return hit[0]
        principal, expires = verify_access_token_expiry(self.secret, token)
        self._verified[token] = (principal, expires)
        return principal


def verifier_for(settings: Settings, secret: str) -> Verifier:
    """The server's own HS256 verifier, wrapped by the identity provider's when a JWKS URL is set."""
    own = TokenVerifier(secret)
    if not settings.jwks_url:
        return own
    return JwksVerifier(
        settings.jwks_url,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        org_claim=settings.jwt_org_claim,
        scope_claim=settings.jwt_scope_claim,
        fallback=own,  # `stockledger token` and POST /token keep working next to the provider
    )


@dataclass
class AppState:
    settings: Settings
    db: Database
    secret: str
    verifier: Verifier
    rate_limiter: RateLimiter
    key_status: KeyStatus  # is the API key behind an access token still active (read per request)
    # Run by the lifespan on shutdown, after in-flight requests finished and before the database
    # closes: background tasks (e.g. a webhook dispatcher) register here to stop claiming work.
    stop_callbacks: list[StopCallback] = field(default_factory=list)
    # Wall-clock milliseconds of the Idempotency-Key lifetimes (tests move it).
    idempotency_clock: Callable[[], int] = now_ms

    @property
    def default_low_stock_units(self) -> int:
        """The level, in thousandths, an alert without a level of its own is evaluated against
        (STOCKLEDGER_DEFAULT_LOW_STOCK_LEVEL), passed to the use cases that evaluate alerts."""
        return default_level_units(self.settings.default_low_stock_level)

    def on_shutdown(self, callback: StopCallback) -> None:
        """Register an async callback that stops a background task when the server shuts down."""
        self.stop_callbacks.append(callback)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.stockledger
    return state
