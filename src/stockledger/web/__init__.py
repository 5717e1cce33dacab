"""The back office: server-rendered pages under /ui (Jinja2 templates, a little plain JavaScript)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

from stockledger.web import (
    account_pages,
    auth_pages,
    error_pages,
    low_stock_pages,
    people_pages,
    settings_pages,
    stock_pages,
    stocktake_pages,
    variant_pages,
    webhook_pages,
)
from stockledger.web.render import STATIC_DIR

# One router per page group; later groups (counts, history, stores, low stock, webhooks) join here
# and add their entry to nav.NAV.
PAGE_ROUTERS: list[APIRouter] = [
    auth_pages.router,
    stock_pages.router,
    variant_pages.router,
    low_stock_pages.router,
    stocktake_pages.router,
    webhook_pages.router,
    settings_pages.router,
    people_pages.router,
    account_pages.router,
]


def install(app: FastAPI) -> None:
    """Serve the assets and every page; the 404 catch-all comes last so it only sees unknown paths."""
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    for router in PAGE_ROUTERS:
        app.include_router(router)
    app.include_router(error_pages.router)
