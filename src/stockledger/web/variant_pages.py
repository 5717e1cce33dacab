"""A variant's page (balances everywhere, ledger history, chart) and the plain-word adjust form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.api.auth import READ_PRODUCT, WRITE_PRODUCT
from stockledger.api.inventory import path_uuid
from stockledger.api.state import app_state
from stockledger.domain.errors import ServiceError
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.quantity import QuantityError, parse_quantity, to_units
from stockledger.service import backoffice
from stockledger.service.backoffice import ADJUSTMENT_LABELS, Adjustment
from stockledger.store.ui_queries import VariantNames
from stockledger.web import session
from stockledger.web.chart import balance_chart
from stockledger.web.params import int_param, uuid_param
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HISTORY_PAGE_SIZE = 25
MAX_REFERENCE_LEN = 255  # the ledger's externalUuid column
DONE_MESSAGES = {
    "receive": "Stock received.",
    "sale": "Sale recorded.",
    "discard": "Stock discarded.",
}


@router.get("/ui/variants/{product}/{variant}")
async def variant_page(request: Request, product: str, variant: str) -> Response:
    user = await session.current_user(request)
    session.require_scope(user, READ_PRODUCT)
    before = int_param(request, "before", 0, low=0, high=2**62)
    view = await backoffice.variant_view(
        app_state(request).db,
        user.actor,
        path_uuid(product, "product"),
        path_uuid(variant, "variant"),
        store_uuid=uuid_param(request, "location"),
        before_seq=before or None,
        page_size=HISTORY_PAGE_SIZE,
    )
    names = {loc.uuid: loc.name for loc in view.locations}
    title = view.names.product_name or view.product_uuid
    chart = balance_chart(view.series, f"Balance of {title} in {view.store.name}")
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return page(
        request,
        "variant.html",
        {
            "user": user,
            "active": "stock",
            "title": title,
            "view": view,
            "location_names": names,
            "chart": chart,
            "done": done,
        },
    )


def _form_context(
    user: session.UiUser,
    stores: list[Any],
    values: dict[str, str],
    errors: dict[str, str],
    label: VariantNames | None = None,
) -> dict[str, Any]:
    return {
        "label": label,
        "user": user,
        "active": "adjust",
        "title": "Adjust stock",
        "stores": stores,
        "actions": ADJUSTMENT_LABELS,
        "values": values,
        "errors": errors,
    }


@router.get("/ui/adjust")
async def adjust_form(request: Request) -> Response:
    user = await session.current_user(request)
    session.require_scope(user, WRITE_PRODUCT)
    stores = backoffice.stores_of(await backoffice.store_locations(app_state(request).db, user.actor))
    query = request.query_params
    values = {
        "location": uuid_param(request, "location") or stores[0].uuid,
        "product": query.get("product", ""),
        "variant": query.get("variant", ""),
        "action": query.get("action", Adjustment.RECEIVE.value),
        "quantity": "",
        "reference": "",
    }
    product, variant = canonical_uuid(values["product"]), canonical_uuid(values["variant"])
    label = None
    if product and variant:
        label = await backoffice.variant_label(app_state(request).db, user.actor, product, variant)
    return page(request, "adjust.html", _form_context(user, stores, values, {}, label))


def _field_of(property_name: str) -> str:
    if property_name.endswith("productUuid"):
        return "product"
    if property_name.endswith("variantUuid"):
        return "variant"
    if property_name.endswith("change"):
        return "quantity"
    if "LocationUuid" in property_name:
        return "location"
    return "form"


@router.post("/ui/adjust")
async def adjust(request: Request) -> Response:
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require_scope(user, WRITE_PRODUCT)
    db = app_state(request).db
    stores = backoffice.stores_of(await backoffice.store_locations(db, user.actor))
    values = {
        name: str(form.get(name, "")).strip()
        for name in ("location", "product", "variant", "action", "quantity", "reference")
    }
    errors: dict[str, str] = {}
    product = canonical_uuid(values["product"])
    variant = canonical_uuid(values["variant"])
    if product is None:
        errors["product"] = "Enter the product's UUID."
    if variant is None:
        errors["variant"] = "Enter the variant's UUID."
    kind = next((a for a in Adjustment if a.value == values["action"]), None)
    if kind is None:
        errors["action"] = "Choose what happened."
    quantity = Decimal(0)
    try:
        quantity = parse_quantity(values["quantity"])
        if quantity <= 0:
            errors["quantity"] = "Enter a quantity greater than 0."
    except QuantityError as exc:
        errors["quantity"] = f"The quantity {exc} (up to 3 decimals, e.g. 2 or 0.25)."
    store = next((s for s in stores if s.uuid == values["location"]), None)
    if store is None:
        errors["location"] = "Choose a store."
    if len(values["reference"]) > MAX_REFERENCE_LEN:
        errors["reference"] = f"Keep the reference under {MAX_REFERENCE_LEN} characters."
    if not errors:
        assert product and variant and kind and store
        try:
            await backoffice.adjust(
                db,
                user.actor,
                store_uuid=store.uuid,
                kind=kind,
                product=product,
                variant=variant,
                units=to_units(quantity),
                external_uuid=values["reference"] or None,
                max_changes=app_state(request).settings.max_changes,
            )
        except ServiceError as exc:
            if exc.status >= 500 or exc.status in (401, 403):
                raise
            for violation in exc.violations or []:
                message = violation.message
                if exc.error_type == "PRODUCT_NOT_TRACKED":
                    message = "This product is not tracked. Start tracking it through the API first."
                errors.setdefault(_field_of(violation.property_name), message)
            if not errors:
                errors["form"] = exc.message
        else:
            target = f"/ui/variants/{product}/{variant}?" + urlencode(
                {"location": store.uuid, "done": kind.value}
            )
            return RedirectResponse(target, status_code=303)
    return page(request, "adjust.html", _form_context(user, stores, values, errors), 400)
