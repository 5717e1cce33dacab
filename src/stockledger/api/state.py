"""What every route needs from the running app: settings, database, token verifier, stop hooks."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from stockledger.api.ratelimit import RateLimiter
from stockledger.config import Settings
from stockledger.jwks import JwksVerifier, Verifier
from stockledger.shutdown import StopCallback
from stockledger.store.db import Database
from stockledger.tokens import Principal, verify_access_token


@dataclass
class TokenVerifier:
    """Verifies bearer tokens. HS256 with the server secret; an external JWKS verifier can replace it."""

    secret: str

    async def verify(self, token: str) -> Principal:
        return verify_access_token(self.secret, token)


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
    # Run by the lifespan on shutdown, after in-flight requests finished and before the database
    # closes: background tasks (e.g. a webhook dispatcher) register here to stop claiming work.
    stop_callbacks: list[StopCallback] = field(default_factory=list)

    def on_shutdown(self, callback: StopCallback) -> None:
        """Register an async callback that stops a background task when the server shuts down."""
        self.stop_callbacks.append(callback)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.stockledger
    return state
