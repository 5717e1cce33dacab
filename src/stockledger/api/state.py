"""What every route needs from the running app: settings, database, token verifier."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from stockledger.api.ratelimit import RateLimiter
from stockledger.config import Settings
from stockledger.store.db import Database
from stockledger.tokens import Principal, verify_access_token


@dataclass
class TokenVerifier:
    """Verifies bearer tokens. HS256 with the server secret; an external JWKS verifier can replace it."""

    secret: str

    async def verify(self, token: str) -> Principal:
        return verify_access_token(self.secret, token)


@dataclass
class AppState:
    settings: Settings
    db: Database
    secret: str
    verifier: TokenVerifier
    rate_limiter: RateLimiter


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.stockledger
    return state
