"""Builds the ASGI application: routers, error handlers, middleware and the lifespan."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from stockledger import __version__, web
from stockledger.api import (
    catalog,
    categories,
    errors,
    extensions,
    images,
    inventory,
    low_stock,
    openapi,
    ops,
    organization,
    products,
    purchase_reads,
    purchases,
    subscriptions,
    taxes,
    token,
    v3_inventories,
    v3_movements,
    v3_stock,
)
from stockledger.api.idempotency import Idempotency, Replay, replay_handler
from stockledger.api.middleware import Gateway
from stockledger.api.state import verifier_for
from stockledger.config import Settings
from stockledger.metrics import worker_stopped
from stockledger.plumbing import AppState
from stockledger.ratelimit import RateLimiter
from stockledger.service.key_status import KeyStatus
from stockledger.shutdown import run_stop_callbacks
from stockledger.store.db import Database, pool_size_for

DESCRIPTION = (
    "Self-hosted inventory service, wire-compatible with the Zettle Inventory API and its Pusher "
    "(webhook) API, on an auditable stock ledger. Everything marked Extension goes beyond Zettle."
)


def quiet_garbage_collector() -> None:
    """Exclude what exists once the app is built (modules, routes, compiled statements, pools) from
    garbage collection: a full collection otherwise walks all of it, pausing every request for up to
    ~200 ms under load. Objects created later are collected as usual."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(7000, 10, 10)


def create_app(settings: Settings, *, db: Database | None = None, workers: int = 1) -> FastAPI:
    """The application. The database schema must already be migrated (`stockledger migrate`).
    `workers`: how many server processes share the database (their pools split one budget)."""
    secret = settings.resolve_secret()
    database = db or Database(settings.effective_database_url(), pool_size=pool_size_for(workers))
    owns_db = db is None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dispatcher = webhooks.dispatcher
        if dispatcher is not None:
            dispatcher.start()
        if owns_db:  # a serving process (tests build many apps in one process)
            quiet_garbage_collector()
        try:
            yield
        finally:
            state: AppState = _app.state.stockledger
            await run_stop_callbacks(state.stop_callbacks, settings.shutdown_timeout_s)
            if dispatcher is not None:
                await dispatcher.stop()
            await webhooks.deliverer.aclose()
            if owns_db:
                await database.dispose()
                worker_stopped(os.getpid())

    app = FastAPI(
        title="stockledger",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # served by api/openapi.py from packaged assets (no CDN)
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        strict_content_type=False,
    )
    limiter = RateLimiter(
        settings.rate_limit_per_s, settings.rate_limit_burst or max(1, int(settings.rate_limit_per_s))
    )
    app.state.stockledger = AppState(
        settings, database, secret, verifier_for(settings, secret), limiter, KeyStatus(database)
    )
    errors.install(app)
    app.add_exception_handler(Replay, replay_handler)  # an Idempotency-Key's stored answer
    # Requests are matched against the routers in this order, each one tried costing a scan of its
    # routes: v3's POST /v3/movements (a router of one route) and the inventory routes (PUT
    # /organizations/{org}/inventory above all) come first. No path of the routers they pass can
    # match theirs (tests/api/test_ops.py), so no answer changes; the OpenAPI document keeps its order
    # (DOCUMENTED_FIRST).
    app.include_router(v3_movements.router)
    app.include_router(inventory.router)
    app.include_router(ops.router)
    app.include_router(token.router)
    app.include_router(purchases.router)
    app.include_router(low_stock.router)
    app.include_router(catalog.router)
    app.include_router(products.router)
    app.include_router(categories.router)
    app.include_router(extensions.router)
    app.include_router(organization.router)
    app.include_router(v3_inventories.router)
    app.include_router(v3_stock.router)
    app.include_router(purchase_reads.router)
    app.include_router(images.router)
    app.include_router(taxes.router)
    webhooks = subscriptions.install(
        app, database, allow_private=settings.webhook_allow_private, run_dispatcher=settings.run_dispatcher
    )
    web.install(app)  # last: it ends with the back office's catch-all 404 page under /ui
    app.add_middleware(Idempotency)  # inside Gateway: paths are normalised and bodies limited first
    app.add_middleware(Gateway, max_body_bytes=settings.max_body_bytes)
    openapi.install(app)
    app.openapi = lambda: openapi.document(app, first=DOCUMENTED_FIRST)  # type: ignore[method-assign]
    return app


# The operations, token and inventory routes head the document, as they did before the inventory
# and v3 movement routes were moved ahead of them for matching.
DOCUMENTED_FIRST = [
    getattr(route, "path", "")
    for router in (ops.router, token.router, inventory.router)
    for route in router.routes
]


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (used by `stockledger serve`, also with several workers)."""
    from stockledger.logging_setup import configure

    settings = Settings.from_env()
    configure(settings.log_level)
    return create_app(settings, workers=settings.workers)
