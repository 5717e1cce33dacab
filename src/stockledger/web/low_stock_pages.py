"""Low stock: every alerted variant at or below its level, per store, in numbered pages and as CSV;
the alert edited on the variant page."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from stockledger.domain.accounts import Permission
from stockledger.domain.backoffice import page_numbers
from stockledger.domain.errors import ServiceError
from stockledger.domain.quantity import QuantityError, format_units, parse_quantity, to_units
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import backoffice, low_stock
from stockledger.web import session
from stockledger.web.params import int_param, uuid_param
from stockledger.web.render import page
from stockledger.web.routing import PageRoute
from stockledger.web.stock_pages import CSV_HEADER, cell, csv_headers
from stockledger.web.variant_pages import render_variant

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50
CSV_SLICE_ROWS = 500  # rows per chunk of the streamed file


async def _view(request: Request, user: session.UiUser) -> backoffice.LowStockPage:
    session.require(user, Permission.VIEW)
    state = app_state(request)
    return await backoffice.low_stock_page(
        state.db, user.actor, uuid_param(request, "location"), default_units=state.default_low_stock_units
    )


@router.get("/ui/low-stock")
async def low_stock_page(request: Request) -> Response:
    user = await session.current_user(request)
    view = await _view(request, user)
    size = int_param(request, "size", PAGE_SIZE, low=10, high=500)
    count = max(1, -(-len(view.rows) // size))
    number = int_param(request, "page", 1, low=1, high=count)

    def url(page_number: int) -> str:
        kept = {"location": view.store.uuid, "page": page_number}
        if size != PAGE_SIZE:
            kept["size"] = size
        return "/ui/low-stock?" + urlencode(kept)

    return page(
        request,
        "low_stock.html",
        {
            "user": user,
            "active": "low-stock",
            "title": f"Low stock · {view.store.name}",
            "view": view,
            "rows": view.rows[(number - 1) * size : number * size],
            "first_row": (number - 1) * size + 1,
            "page_number": number,
            "page_count": count,
            "numbers": page_numbers(number, count),
            "url": url,
        },
    )


@router.get("/ui/low-stock.csv")
async def low_stock_csv(request: Request) -> Response:
    """Every row of the store's low-stock list, with SKU, barcode and the level it is judged by."""
    user = await session.current_user(request)
    view = await _view(request, user)

    async def body() -> AsyncIterator[str]:
        yield ",".join([*CSV_HEADER, "level", "defaultLevel"]) + "\r\n"
        for start in range(0, len(view.rows), CSV_SLICE_ROWS):
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for row in view.rows[start : start + CSV_SLICE_ROWS]:
                writer.writerow(
                    [
                        row.product_uuid,
                        cell(row.product_name),
                        row.variant_uuid,
                        cell(row.variant_name),
                        cell(row.sku),
                        cell(row.barcode),
                        format_units(row.units),
                        format_units(row.level_units),
                        "false" if row.own_level else "true",
                    ]
                )
            yield buffer.getvalue()

    filename = f"low-stock-{view.store.uuid[:8]}.csv"
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=csv_headers(filename))


@router.post("/ui/variants/{product}/{variant}/low-stock")
async def save_alert(request: Request, product: str, variant: str) -> Response:
    """Level and alert of one variant in one store, through the low-stock service (as PUT does)."""
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require(user, Permission.STOCK)
    product_uuid, variant_uuid = path_uuid(product, "product"), path_uuid(variant, "variant")
    db = app_state(request).db
    store = backoffice.pick_store(
        await backoffice.store_locations(db, user.actor), str(form.get("location", ""))
    )
    level_raw = str(form.get("level", "")).strip()
    alert = form.get("alert") == "on"
    errors: dict[str, str] = {}
    level_units: int | None = None
    if level_raw:
        try:
            level = parse_quantity(level_raw)
            if level < 0:
                errors["level"] = "The level cannot be negative."
            else:
                level_units = to_units(level)
        except QuantityError as exc:
            errors["level"] = f"The level {exc} (up to 3 decimals, e.g. 5 or 2.5)."
    if not errors:
        entry = low_stock.ConfigRequest(product_uuid, variant_uuid, level_units, alert)
        try:
            await low_stock.save(db, user.actor, store.uuid, [entry])
        except ServiceError as exc:
            if exc.status >= 500 or exc.status in (401, 403):
                raise
            errors["form"] = exc.message
        else:
            target = f"/ui/variants/{product_uuid}/{variant_uuid}?" + urlencode(
                {"location": store.uuid, "done": "low-stock"}
            )
            return RedirectResponse(target, status_code=303)
    values = {"level": level_raw, "alert": alert}
    extra = {"low_stock_errors": errors, "low_stock_values": values}
    return await render_variant(request, user, product_uuid, variant_uuid, store.uuid, extra, 400)
