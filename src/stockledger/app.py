"""Builds the ASGI application: routers, error handlers, middleware and the lifespan."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from stockledger import __version__
from stockledger.api import errors, inventory, ops, token
from stockledger.api.middleware import Gateway
from stockledger.api.state import AppState, TokenVerifier
from stockledger.config import Settings
from stockledger.store.db import Database, pool_size_for

DESCRIPTION = (
    "Self-hosted inventory service, wire-compatible with the Zettle Inventory API and its Pusher "
    "(webhook) API, on an auditable stock ledger. Everything marked Extension goes beyond Zettle."
)


def create_app(settings: Settings, *, db: Database | None = None, workers: int = 1) -> FastAPI:
    """The application. The database schema must already be migrated (`stockledger migrate`).
    `workers`: how many server processes share the database (their pools split one budget)."""
    secret = settings.resolve_secret()
    database = db or Database(settings.effective_database_url(), pool_size=pool_size_for(workers))
    owns_db = db is None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owns_db:
                await database.dispose()

    app = FastAPI(
        title="stockledger",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/swagger",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        strict_content_type=False,
    )
    app.state.stockledger = AppState(settings, database, secret, TokenVerifier(secret))
    errors.install(app)
    app.include_router(ops.router)
    app.include_router(token.router)
    app.include_router(inventory.router)
    app.add_middleware(Gateway, max_body_bytes=settings.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (used by `stockledger serve`, also with several workers)."""
    from stockledger.logging_setup import configure

    settings = Settings.from_env()
    configure(settings.log_level)
    workers = os.environ.get("STOCKLEDGER_WORKERS", "")
    return create_app(settings, workers=int(workers) if workers.isdigit() else 1)
