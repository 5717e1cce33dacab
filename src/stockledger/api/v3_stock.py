"""Routes of Inventory API v3 stock reads (v3 contract §5, §6): the stock row, `GET /v3/stock` (every
STORE), `GET /v3/stock/{inventoryUuid}` (one inventory, any type), one product's rows and several
products' rows. The organization is the token's; lists come in pages with one `Link: <…>; rel="next"`.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Body, Query, Request
from starlette.responses import Response

from stockledger.api.auth import Reader
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.v3_pages import DEFAULT_LIMIT, MAX_LIMIT, page_limit, page_response
from stockledger.api.wire import ERRORS, Wire
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.quantity import SCALE, format_units
from stockledger.domain.stock_rows import StockRecord, checksum, shown_setting
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import v3_stock
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Inventory v3"])

# Products per `POST /v3/stock/{inventoryUuid}/products`: its answer is one body held in memory, and
# a product has few variants; a client wanting more asks again (or pages `GET /v3/stock/{inv}`).
MAX_PRODUCTS = 1000


class StockRowOut(Wire):
    """One variant's stock in one inventory (v3 contract §5)."""

    organizationUuid: str
    inventoryUuid: str
    productUuid: str
    variantUuid: str
    balance: float  # a JSON number: an integer when whole, else exactly the decimals held
    lowStockLevel: float | None
    lowStockAlert: bool
    updated: str
    checksum: str


LimitQuery = Query(
    None, description=f"Page size, 1 to {MAX_LIMIT} (larger is clamped); {DEFAULT_LIMIT} if absent"
)
CursorQuery = Query(None, description="Opaque: as found in the `Link` header of the previous page")
PRODUCTS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {
                            "type": "array",
                            "items": {"type": "string", "format": "uuid"},
                            "maxItems": MAX_PRODUCTS,
                        },
                        {
                            "type": "object",
                            "required": ["productUuids"],
                            "properties": {
                                "productUuids": {
                                    "type": "array",
                                    "items": {"type": "string", "format": "uuid"},
                                    "maxItems": MAX_PRODUCTS,
                                }
                            },
                        },
                    ]
                }
            }
        },
    }
}


# ---- wire form ---------------------------------------------------------------------------------


def json_number(units: int) -> int | orjson.Fragment:
    """Thousandths as a JSON number: an integer when whole (`42`), else its exact decimal spelling
    (`2.5`, `-0.125`) written into the JSON as is; never through a binary float."""
    if units % SCALE == 0:
        return units // SCALE
    return orjson.Fragment(format_units(units).encode())


@functools.lru_cache(maxsize=4096)
def _second(s: int) -> str:
    # Rows written together share their second: a page formats few distinct ones.
    return datetime.fromtimestamp(s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")


def iso_ms(ms: int) -> str:
    """Epoch milliseconds → `2021-01-01T00:00:00.000Z` (UTC, milliseconds)."""
    return f"{_second(ms // 1000)}{ms % 1000:03d}Z"


def stock_row(org: str, inventory_uuid: str, record: StockRecord, default_units: int) -> dict[str, Any]:
    """The JSON object of one row (`default_units`: the level an alert without its own shows)."""
    product, variant, units, balance_ms, stored_level, stored_alert, setting_ms = record
    level, alert, updated_ms = shown_setting(
        balance_ms, stored_level, stored_alert, setting_ms, default_units
    )
    return {
        "organizationUuid": org,
        "inventoryUuid": inventory_uuid,
        "productUuid": product,
        "variantUuid": variant,
        "balance": json_number(units),
        "lowStockLevel": None if level is None else json_number(level),
        "lowStockAlert": alert,
        "updated": f"{_second(updated_ms // 1000)}{updated_ms % 1000:03d}Z",  # iso_ms, inlined: once per row
        "checksum": checksum(inventory_uuid, product, variant, units, level, alert),
    }


def stock_rows(request: Request, org: str, groups: list[v3_stock.InventoryRecords]) -> list[dict[str, Any]]:
    default_units = app_state(request).default_low_stock_units
    return [
        stock_row(org, inventory, record, default_units)
        for inventory, records in groups
        for record in records
    ]


def product_uuids_of(body: Any) -> list[str]:
    """The product UUIDs of a `POST …/products` body: a JSON array of them, or `{"productUuids": [...]}`
    (v3 contract §6.4, Q7); each canonical, duplicates dropped, at most MAX_PRODUCTS."""
    if isinstance(body, list):
        items, path = body, ""
    elif isinstance(body, dict) and isinstance(body.get("productUuids"), list):
        items, path = body["productUuids"], "productUuids"
    else:
        message = 'must be a JSON array of product UUIDs, or {"productUuids": [...]}'
        raise validation_error([Violation("productUuids", message)])
    if len(items) > MAX_PRODUCTS:
        raise validation_error([Violation(path or "productUuids", f"must hold at most {MAX_PRODUCTS} UUIDs")])
    found: dict[str, None] = {}
    violations = []
    for i, item in enumerate(items):
        canonical = canonical_uuid(item)
        if canonical is None:
            violations.append(Violation(f"{path}[{i}]", "must be a UUID"))
        else:
            found[canonical] = None
    if violations:
        raise validation_error(violations)
    return list(found)


# ---- routes ------------------------------------------------------------------------------------


@router.get("/v3/stock", response_model=list[StockRowOut])
async def stock_of_stores(
    request: Request, limit: str | None = LimitQuery, cursor: str | None = CursorQuery, actor: Actor = Reader
) -> Response:
    """Stock rows of every STORE inventory, in pages: by inventory, product and variant."""
    size = page_limit(limit)
    state = app_state(request)
    page = await v3_stock.stores_page(state.db, actor, limit=size, cursor=cursor or None)
    return page_response(request, stock_rows(request, actor.org, page.groups), page.next_cursor, size)


@router.get("/v3/stock/{inventoryUuid}", response_model=list[StockRowOut])
async def stock_of_inventory(
    request: Request,
    inventoryUuid: str,
    limit: str | None = LimitQuery,
    cursor: str | None = CursorQuery,
    actor: Actor = Reader,
) -> Response:
    """Stock rows of one inventory of any type, in pages: by product and variant."""
    inventory = path_uuid(inventoryUuid, "inventoryUuid")
    size = page_limit(limit)
    state = app_state(request)
    page = await v3_stock.inventory_page(
        state.db,
        actor,
        inventory,
        limit=size,
        cursor=cursor or None,
    )
    return page_response(request, stock_rows(request, actor.org, page.groups), page.next_cursor, size)


@router.get("/v3/stock/{inventoryUuid}/products/{productUuid}", response_model=list[StockRowOut])
async def stock_of_product(
    request: Request, inventoryUuid: str, productUuid: str, actor: Actor = Reader
) -> Response:
    """Stock rows of one tracked product in one inventory (no paging); untracked → PRODUCT_NOT_TRACKED."""
    inventory = path_uuid(inventoryUuid, "inventoryUuid")
    product = path_uuid(productUuid, "productUuid")
    state = app_state(request)
    rows = await v3_stock.product_rows(state.db, actor, inventory, product)
    return json_response(stock_rows(request, actor.org, rows))


@router.post(
    "/v3/stock/{inventoryUuid}/products", response_model=list[StockRowOut], openapi_extra=PRODUCTS_BODY
)
async def stock_of_products(
    request: Request, inventoryUuid: str, body: Any = Body(None), actor: Actor = Reader
) -> Response:
    """Stock rows of several products in one inventory (a read by POST); untracked ones are absent."""
    inventory = path_uuid(inventoryUuid, "inventoryUuid")
    wanted = product_uuids_of(body)
    state = app_state(request)
    rows = await v3_stock.products_rows(state.db, actor, inventory, wanted)
    return json_response(stock_rows(request, actor.org, rows))
