"""Low stock: every alerted variant at or below its level, per store; the alert edited on the variant page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.domain.accounts import Permission
from stockledger.domain.errors import ServiceError
from stockledger.domain.quantity import QuantityError, parse_quantity, to_units
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import backoffice, low_stock
from stockledger.web import session
from stockledger.web.params import uuid_param
from stockledger.web.render import page
from stockledger.web.routing import PageRoute
from stockledger.web.variant_pages import render_variant

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/ui/low-stock")
async def low_stock_page(request: Request) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.VIEW)
    state = app_state(request)
    view = await backoffice.low_stock_page(
        state.db, user.actor, uuid_param(request, "location"), default_units=state.default_low_stock_units
    )
    return page(
        request,
        "low_stock.html",
        {"user": user, "active": "low-stock", "title": f"Low stock · {view.store.name}", "view": view},
    )


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
