"""Request plumbing both front doors share (api/ and web/): scopes, path parsing, the app state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from stockledger.config import Settings
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.low_stock_rules import default_level_units
from stockledger.jwks import Verifier
from stockledger.ratelimit import RateLimiter
from stockledger.service.key_status import KeyStatus
from stockledger.shutdown import StopCallback

# The routes only hand the database handle on to services; it is re-exported here so that neither
# front door imports store/ (the layer rule), not so that they query it.
from stockledger.store.db import Database
from stockledger.store.sql import now_ms

__all__ = [
    "READ_PRODUCT",
    "READ_PURCHASE",
    "WRITE_PRODUCT",
    "WRITE_PURCHASE",
    "AppState",
    "Database",
    "app_state",
    "path_uuid",
]

READ_PRODUCT = "READ:PRODUCT"
WRITE_PRODUCT = "WRITE:PRODUCT"
READ_PURCHASE = "READ:PURCHASE"
WRITE_PURCHASE = "WRITE:PURCHASE"


@dataclass
class AppState:
    """What every route and page needs from the running app: settings, database, token verifier,
    rate limiter, key status and stop hooks."""

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
    # Wall-clock milliseconds of back-office sign-ins and sessions: lock-outs end by it (tests move it).
    signin_clock: Callable[[], int] = now_ms

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


def path_uuid(value: str, name: str) -> str:
    """A UUID from the path in canonical form, or 400 naming the parameter."""
    canonical = canonical_uuid(value)
    if canonical is None:
        raise validation_error([Violation(name, "must be a UUID")])
    return canonical
