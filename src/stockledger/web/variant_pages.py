"""A variant's page (balances everywhere, ledger history, chart) and the plain-word adjust form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.domain.accounts import Permission
from stockledger.domain.balance_chart import CHART_RANGES, DEFAULT_RANGE, RANGE_LABELS, chart_range
from stockledger.domain.errors import ServiceError
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.quantity import QuantityError, format_units, parse_quantity, to_units
from stockledger.domain.text import has_nul
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import backoffice, counts, low_stock
from stockledger.service.backoffice import ADJUSTMENT_LABELS, Adjustment
from stockledger.web import adjust_picker, session
from stockledger.web.chart import chart_data, chart_summary
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
    "transfer": "Stock transferred.",
    "count": "Count recorded.",
    "low-stock": "Low-stock alert saved.",
}


@router.get("/ui/variants/{product}/{variant}")
async def variant_page(request: Request, product: str, variant: str) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.VIEW)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return await render_variant(
        request, user, product, variant, uuid_param(request, "location"), {"done": done}
    )


async def render_variant(
    request: Request,
    user: session.UiUser,
    product: str,
    variant: str,
    store_uuid: str | None,
    extra: dict[str, Any],
    status: int = 200,
) -> Response:
    """The variant page; `extra` carries a notice or the low-stock form's values and errors."""
    before = int_param(request, "before", 0, low=0, high=2**62)
    shown_range = chart_range(request.query_params.get("range", ""))
    db = app_state(request).db
    view = await backoffice.variant_view(
        db,
        user.actor,
        path_uuid(product, "product"),
        path_uuid(variant, "variant"),
        store_uuid=store_uuid,
        before_seq=before or None,
        page_size=HISTORY_PAGE_SIZE,
        range_ms=CHART_RANGES[shown_range],
    )
    names = {loc.uuid: loc.name for loc in view.locations}
    title = view.names.product_name or view.product_uuid

    def here(**changes: object) -> str:
        """This page's address with `changes` (store, chart range and history page kept)."""
        values: dict[str, object] = {"location": view.store.uuid, "range": shown_range, "before": before}
        values.update(changes)
        kept = {k: v for k, v in values.items() if v and not (k == "range" and v == DEFAULT_RANGE)}
        return f"/ui/variants/{view.product_uuid}/{view.variant_uuid}?" + urlencode(kept)

    configs = await low_stock.location_configs(db, user.actor, view.store.uuid, view.product_uuid)
    config = next((c for c in configs.configs if c.variant_uuid == view.variant_uuid), None)
    context: dict[str, Any] = {
        "user": user,
        "active": "stock",
        "title": title,
        "view": view,
        "location_names": names,
        "chart_data": chart_data(view.chart),
        "chart_summary": chart_summary(view.chart, RANGE_LABELS[shown_range]) if view.chart.points else "",
        "chart_range": shown_range,
        "ranges": RANGE_LABELS.items(),
        "here": here,
        "done": None,
        "low_stock": {
            "level": "" if config is None or config.level_units is None else format_units(config.level_units),
            "alert": config is not None and config.alert,
            "default_level": format_units(app_state(request).default_low_stock_units),
        },
        "low_stock_errors": {},
    }
    if "low_stock_values" in extra:  # a rejected form shows what was entered, not what is stored
        context["low_stock"].update(extra.pop("low_stock_values"))
    context.update(extra)
    return page(request, "variant.html", context, status)


COUNT = "count"  # not a movement between two named locations: the counts service records the difference
ACTIONS = [(a.value, label) for a, label in ADJUSTMENT_LABELS.items()] + [
    (COUNT, "Count: set the balance to what you counted")
]
FIELDS = (
    "location",
    "to_location",
    "product",
    "variant",
    "action",
    "quantity",
    "reference",
    "expected",
    "expected_key",
)


def _form_context(
    user: session.UiUser,
    stores: list[Any],
    values: dict[str, str],
    errors: dict[str, str],
    chosen: adjust_picker.Chosen | None = None,
    balance: int | None = None,
    **picker: Any,
) -> dict[str, Any]:
    """The adjust page: the chosen variant (or the picker: `find`, `search`), the form, `notice`."""
    return {
        "chosen": chosen,
        "user": user,
        "active": "adjust",
        "title": "Adjust stock",
        "stores": stores,
        "actions": ACTIONS,
        "values": values,
        "errors": errors,
        "balance": balance,
        "find": "",
        "search": None,
        "notice": None,
        "adjust_url": adjust_picker.adjust_url,
        "location": values["location"],
        "action": values["action"],
        **picker,
    }


def _expected_key(location: str, product: str, variant: str) -> str:
    """What the hidden expected balance is about: a count of another store or variant ignores it."""
    return f"{location}/{product}/{variant}"


@router.get("/ui/adjust")
async def adjust_form(request: Request) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.STOCK)
    db = app_state(request).db
    stores = backoffice.stores_of(await backoffice.store_locations(db, user.actor))
    query = request.query_params
    location = uuid_param(request, "location")
    store = next((s for s in stores if s.uuid == location), stores[0])
    values = {name: "" for name in FIELDS}
    values.update(
        location=store.uuid,
        to_location=next((s.uuid for s in stores if s.uuid != store.uuid), ""),
        product=query.get("product", ""),
        variant=query.get("variant", ""),
        action=query.get("action", Adjustment.RECEIVE.value),
    )
    chosen = await adjust_picker.chosen_variant(request, user, values["product"], values["variant"])
    balance = None
    picker: dict[str, Any] = {"notice": adjust_picker.NOTICES.get(query.get("done", ""))}
    if chosen is not None:
        balance = await backoffice.balance_in(db, user.actor, store.uuid, chosen.product, chosen.variant)
        values.update(
            product=chosen.product,
            variant=chosen.variant,
            expected=format_units(balance),
            expected_key=_expected_key(store.uuid, chosen.product, chosen.variant),
        )
    else:
        find = adjust_picker.find_text(query.get("find", ""))
        found = await adjust_picker.search(request, user, find, scanned=True)
        picked = adjust_picker.scanned(found, store.uuid, values["action"])
        if picked is not None:
            return picked
        picker.update(find=find, search=found)
    context = _form_context(user, stores, values, {}, chosen, balance, **picker)
    return page(request, "adjust.html", context)


def _field_of(property_name: str) -> str:
    if property_name.endswith("productUuid"):
        return "product"
    if property_name.endswith("variantUuid"):
        return "product"  # the picker chooses both at once
    if property_name.endswith("change"):
        return "quantity"
    if property_name.startswith("toLocationUuid"):
        return "to_location"
    if "LocationUuid" in property_name or property_name == "locationUuid":
        return "location"
    return "form"


def _check_form(values: dict[str, str], stores: list[Any]) -> tuple[dict[str, str], Decimal]:
    errors: dict[str, str] = {}
    if canonical_uuid(values["product"]) is None or canonical_uuid(values["variant"]) is None:
        errors["product"] = "Choose the product first: find it by name, SKU or barcode."
    if values["action"] not in {value for value, _ in ACTIONS}:
        errors["action"] = "Choose what happened."
    counting = values["action"] == COUNT
    quantity = Decimal(0)
    try:
        quantity = parse_quantity(values["quantity"])
        if counting and quantity < 0:
            errors["quantity"] = "A counted balance cannot be negative."
        elif not counting and quantity <= 0:
            errors["quantity"] = "Enter a quantity greater than 0."
    except QuantityError as exc:
        errors["quantity"] = f"The quantity {exc} (up to 3 decimals, e.g. 2 or 0.25)."
    store_uuids = {s.uuid for s in stores}
    if values["location"] not in store_uuids:
        errors["location"] = "Choose a store."
    if values["action"] == Adjustment.TRANSFER.value:
        if values["to_location"] not in store_uuids:
            errors["to_location"] = "Choose the store the stock goes to."
        elif values["to_location"] == values["location"]:
            errors["to_location"] = "Choose another store than the one the stock leaves."
    if len(values["reference"]) > MAX_REFERENCE_LEN:
        errors["reference"] = f"Keep the reference under {MAX_REFERENCE_LEN} characters."
    elif has_nul(values["reference"]):
        errors["reference"] = "The reference cannot hold the NUL character (U+0000)."
    return errors, quantity


def _errors_of(exc: ServiceError, store_name: str = "the store") -> dict[str, str]:
    if exc.status >= 500 or exc.status in (401, 403):
        raise exc
    if exc.error_type == "INSUFFICIENT_STOCK":
        # The API's message names a location UUID; the owner chose a store by its name.
        refused = "the organization refuses negative stock (allowNegativeStock)"
        return {"quantity": f"Not enough stock in {store_name}: {refused}."}
    errors: dict[str, str] = {}
    for violation in exc.violations or []:
        message = violation.message
        if exc.error_type == "PRODUCT_NOT_TRACKED":
            message = "Stock of this product is not tracked yet: start tracking it here first."
        errors.setdefault(_field_of(violation.property_name), message)
    if not errors:
        errors["form"] = exc.message
    return errors


@router.post("/ui/adjust")
async def adjust(request: Request) -> Response:
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require(user, Permission.STOCK)
    db = app_state(request).db
    stores = backoffice.stores_of(await backoffice.store_locations(db, user.actor))
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    errors, quantity = _check_form(values, stores)
    if not errors:
        product = canonical_uuid(values["product"])
        variant = canonical_uuid(values["variant"])
        assert product and variant
        values.update(product=product, variant=variant)
        if values["action"] == COUNT:
            return await _count(request, user, stores, values, to_units(quantity))
        try:
            await backoffice.adjust(
                db,
                user.actor,
                store_uuid=values["location"],
                kind=Adjustment(values["action"]),
                product=product,
                variant=variant,
                units=to_units(quantity),
                external_uuid=values["reference"] or None,
                max_changes=app_state(request).settings.max_changes,
                default_low_stock_units=app_state(request).default_low_stock_units,
                to_store_uuid=values["to_location"] or None,
            )
        except ServiceError as exc:
            errors = _errors_of(exc, next(s.name for s in stores if s.uuid == values["location"]))
        else:
            return _done(product, variant, values["location"], values["action"])
    return await _rejected(request, user, stores, values, errors)


async def _rejected(
    request: Request, user: session.UiUser, stores: list[Any], values: dict[str, str], errors: dict[str, str]
) -> Response:
    """The form again with what was entered, the chosen variant and the errors; nothing recorded."""
    chosen = await adjust_picker.chosen_variant(request, user, values["product"], values["variant"])
    return page(request, "adjust.html", _form_context(user, stores, values, errors, chosen), 400)


def _done(product: str, variant: str, location: str, what: str) -> Response:
    target = f"/ui/variants/{product}/{variant}?" + urlencode({"location": location, "done": what})
    return RedirectResponse(target, status_code=303)


async def _count(
    request: Request, user: session.UiUser, stores: list[Any], values: dict[str, str], counted: int
) -> Response:
    """Apply a count against the balance the merchant saw; if it moved meanwhile (or no balance was
    shown for this store and variant) show both numbers and apply nothing until they confirm."""
    db = app_state(request).db
    product, variant, location = values["product"], values["variant"], values["location"]
    expected: int | None = None
    if values["expected_key"] == _expected_key(location, product, variant):
        try:
            expected = to_units(parse_quantity(values["expected"]))
        except QuantityError:
            expected = None
    if expected is None:
        current = await backoffice.balance_in(db, user.actor, location, product, variant)
        return await _confirm(request, user, stores, values, counted, None, current, 200)
    try:
        await counts.apply_counts(
            db,
            user.actor,
            [counts.Count(product, variant, counted, expected, "counts[0]")],
            location_uuid=location,
            external_uuid=values["reference"] or None,
            max_changes=app_state(request).settings.max_changes,
            default_low_stock_units=app_state(request).default_low_stock_units,
        )
    except ServiceError as exc:
        if exc.error_type != "BALANCE_CHANGED":
            return await _rejected(request, user, stores, values, _errors_of(exc))
        now = exc.extra.get("currentBalances", [])
        assert isinstance(now, list) and now
        current = to_units(parse_quantity(now[0]["balance"]))
        return await _confirm(request, user, stores, values, counted, expected, current, 409)
    return _done(product, variant, location, COUNT)


async def _confirm(
    request: Request,
    user: session.UiUser,
    stores: list[Any],
    values: dict[str, str],
    counted: int,
    seen: int | None,
    current: int,
    status: int,
) -> Response:
    store = next(s for s in stores if s.uuid == values["location"])
    label = await backoffice.variant_label(
        app_state(request).db, user.actor, values["product"], values["variant"]
    )
    confirm = dict(
        values,
        expected=format_units(current),
        expected_key=_expected_key(store.uuid, values["product"], values["variant"]),
        quantity=format_units(counted),
    )
    context = {
        "user": user,
        "active": "adjust",
        "title": "Balance changed" if seen is not None else "Confirm the count",
        "label": label,
        "store": store,
        "seen": seen,
        "current": current,
        "counted": counted,
        "values": confirm,
    }
    return page(request, "count_confirm.html", context, status)
