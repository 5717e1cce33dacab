"""Stock overview of a store: search, sort, pages, store switch, CSV export of the page shown or of
every row (streamed)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from stockledger.domain.accounts import Permission
from stockledger.domain.backoffice import STOCK_SORTS, StockSort
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.quantity import format_units
from stockledger.plumbing import app_state
from stockledger.service import backoffice, stock_export
from stockledger.web import session
from stockledger.web.params import decode_cursor, encode_cursor, int_param, uuid_param
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50
MAX_QUERY_LEN = 200


@dataclass(frozen=True)
class StockParams:
    store: str | None
    query: str
    sort: StockSort
    after: str  # the opaque keyset position of this page ("" = the first page)
    size: int

    def url(self, path: str = "/ui/stock", **changes: object) -> str:
        values: dict[str, object] = {
            "location": self.store or "",
            "q": self.query,
            "sort": self.sort,
            "after": self.after,
            "size": self.size,
        }
        values.update(changes)
        defaults = {"location": "", "q": "", "sort": "name", "after": "", "size": PAGE_SIZE}
        kept = {k: v for k, v in values.items() if v != defaults[k]}
        return path + (f"?{urlencode(kept)}" if kept else "")


def stock_params(request: Request) -> StockParams:
    sort_raw = request.query_params.get("sort", "name")
    sort: StockSort = next((s for s in STOCK_SORTS if s == sort_raw), "name")
    return StockParams(
        uuid_param(request, "location"),
        request.query_params.get("q", "").strip()[:MAX_QUERY_LEN],
        sort,
        request.query_params.get("after", ""),
        int_param(request, "size", PAGE_SIZE, low=10, high=500),
    )


async def _view(request: Request, user: session.UiUser, params: StockParams) -> backoffice.StockView:
    session.require(user, Permission.VIEW)
    return await backoffice.stock_view(
        app_state(request).db,
        user.actor,
        params.store,
        query=params.query,
        query_uuid=canonical_uuid(params.query),
        sort=params.sort,
        cursor=decode_cursor(params.after),
        limit=params.size,
    )


@router.get("/ui/stock")
async def stock(request: Request) -> Response:
    user = await session.current_user(request)
    params = stock_params(request)
    view = await _view(request, user, params)
    return page(
        request,
        "stock.html",
        {
            "user": user,
            "active": "stock",
            "title": f"Stock · {view.store.name}",
            "view": view,
            "params": params,
            "next_after": encode_cursor(view.page.next_cursor),
            "previous_after": encode_cursor(view.previous),
            "page_number": -(-view.rows_before // params.size) + 1,
            "page_count": max(1, -(-view.total // params.size)),
        },
    )


CSV_HEADER = ["productUuid", "productName", "variantUuid", "variantName", "sku", "barcode", "balance"]


def csv_lines(rows: Iterable[stock_export.StockRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(
            [
                row.product_uuid,
                cell(row.product_name),
                row.variant_uuid,
                cell(row.variant_name),
                cell(row.sku),
                cell(row.barcode),
                format_units(row.units),
            ]
        )
    return buffer.getvalue()


def csv_headers(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}


@router.get("/ui/stock.csv")
async def stock_csv(request: Request) -> Response:
    """The rows of the page shown (same store, search, sort and page) as CSV."""
    user = await session.current_user(request)
    params = stock_params(request)
    view = await _view(request, user, params)
    body = ",".join(CSV_HEADER) + "\r\n" + csv_lines(view.page.rows)
    filename = f"stock-{view.store.uuid[:8]}.csv"
    return Response(body, media_type="text/csv; charset=utf-8", headers=csv_headers(filename))


@router.get("/ui/stock/all.csv")
async def stock_all_csv(request: Request) -> Response:
    """Every row of the store that the search matches (all of them without one), in name order,
    streamed a slice at a time."""
    user = await session.current_user(request)
    session.require(user, Permission.VIEW)
    params = stock_params(request)
    db = app_state(request).db
    store = await stock_export.export_store(db, user.actor, params.store)  # 404 before anything is sent
    slices = stock_export.stock_slices(
        db, user.actor, store, query=params.query, query_uuid=canonical_uuid(params.query)
    )

    async def body() -> AsyncIterator[str]:
        yield ",".join(CSV_HEADER) + "\r\n"
        async for rows in slices:
            yield csv_lines(rows)

    filename = f"stock-{store.uuid[:8]}-all.csv"
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=csv_headers(filename))


def cell(text: str | None) -> str:
    """Names could start with = + - @: prefix them so a spreadsheet never runs them as formulas."""
    if not text:
        return ""
    return "'" + text if text[0] in "=+-@\t\r" else text
