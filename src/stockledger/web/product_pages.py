"""The Products page: the Product Library in the back office — list and search, create, edit (guarded
by the product's etag), delete, and start or stop tracking its stock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.domain import products as p
from stockledger.domain.accounts import Permission
from stockledger.domain.errors import ServiceError, not_found
from stockledger.domain.ids import canonical_uuid, new_uuid1
from stockledger.domain.money import format_price
from stockledger.plumbing import app_state
from stockledger.service import products, settings, tracking
from stockledger.web import product_form as pf
from stockledger.web import session
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25
MAX_QUERY_LEN = 200
MAX_CURSOR_LEN = 100  # the library's cursors are "<created ms>.<uuid>"
DONE_MESSAGES = {
    "created": "Product created.",
    "saved": "Product saved.",
    "deleted": "Product deleted.",
    "tracking": "Stock of this product is tracked now.",
    "untracked": "Stock of this product is no longer tracked (its balances are kept).",
}
STALE = (
    "Nothing was saved: this product was changed elsewhere after you opened it. "
    "Reload it to see the current version, then make your change again."
)


@dataclass(frozen=True)
class VariantLine:
    uuid: str
    name: str | None
    sku: str | None
    barcode: str | None
    price: str  # "19.99 SEK", or "" without a price


@dataclass(frozen=True)
class ProductRow:
    uuid: str
    name: str | None
    description: str | None
    variants: list[VariantLine]
    tracked: bool


def _lines(product: p.Product) -> list[VariantLine]:
    return [
        VariantLine(
            v.uuid,
            v.name,
            v.sku,
            v.barcode,
            ""
            if v.price is None
            else f"{format_price(v.price.amount, v.price.currency_id)} {v.price.currency_id}",
        )
        for v in p.listed_variants(product)
    ]


def _product_uuid(value: str) -> str:
    found = canonical_uuid(value)
    if found is None:
        raise not_found("No such product")
    return found


def list_url(query: str, after: str = "", **extra: str) -> str:
    kept = {k: v for k, v in {"q": query, "after": after, **extra}.items() if v}
    return "/ui/products" + (f"?{urlencode(kept)}" if kept else "")


@router.get("/ui/products")
async def product_list(request: Request) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.VIEW)
    db = app_state(request).db
    query = request.query_params.get("q", "").strip()[:MAX_QUERY_LEN]
    after = request.query_params.get("after", "")[:MAX_CURSOR_LEN]
    try:
        found = await products.list_products(
            db, user.actor, search=query or None, limit=PAGE_SIZE, cursor=after or None
        )
    except ServiceError:  # a cursor that is not one (edited by hand): the first page
        after = ""
        found = await products.list_products(db, user.actor, search=query or None, limit=PAGE_SIZE)
    tracked = await tracking.tracked_among(db, user.actor, [product.uuid for product in found.products])
    rows = [
        ProductRow(product.uuid, product.name, product.description, _lines(product), product.uuid in tracked)
        for product in found.products
    ]
    back = list_url(query, after)
    context: dict[str, Any] = {
        "user": user,
        "active": "products",
        "title": "Products",
        "query": query,
        "rows": rows,
        "back": back,
        "first_url": list_url(query) if after else None,
        "next_url": list_url(query, found.next_cursor) if found.next_cursor else None,
        "total": await products.count_products(db, user.actor),
        "done": DONE_MESSAGES.get(request.query_params.get("done", "")),
        "can_write": user.can(Permission.STOCK),
    }
    return page(request, "products.html", context)


async def _render_form(
    request: Request,
    user: session.UiUser,
    form: pf.ProductForm,
    errors: dict[str, str],
    *,
    product: p.Product | None,
    status: int = 200,
    focus: str = "",
    stale: bool = False,
) -> Response:
    db = app_state(request).db
    tracked = product is not None and product.uuid in await tracking.tracked_among(
        db, user.actor, [product.uuid]
    )
    context: dict[str, Any] = {
        "user": user,
        "active": "products",
        "title": (product.name or "Unnamed product") if product else "New product",
        "form": form,
        "errors": errors,
        "product": product,
        "tracked": tracked,
        "stale": stale,
        "focus": focus,
        "max_rows": pf.MAX_ROWS,
        "done": DONE_MESSAGES.get(request.query_params.get("done", "")),
        "action": f"/ui/products/{product.uuid}" if product else "/ui/products/new",
        "can_write": user.can(Permission.STOCK),
    }
    return page(request, "product_form.html", context, status)


async def _currency(request: Request, user: session.UiUser) -> tuple[str, Any]:
    profile = (await settings.get(app_state(request).db, user.actor)).profile
    return profile.currency, profile.vat_percentage


async def _posted(request: Request, permission: Permission = Permission.STOCK) -> tuple[session.UiUser, Any]:
    """The signed-in user and the posted form, its CSRF token checked, as every back-office POST."""
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require(user, permission)
    return user, form


def _violations(exc: ServiceError, rows: list[int]) -> dict[str, str]:
    if exc.status != 400 or not exc.violations:
        raise exc
    return pf.errors_of(exc.violations, rows)


@router.get("/ui/products/new")
async def new_product(request: Request) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.STOCK)
    currency, vat = await _currency(request, user)
    return await _render_form(request, user, pf.new_form(currency, vat), {}, product=None, focus="name")


@router.post("/ui/products/new")
async def create_product(request: Request) -> Response:
    user, posted = await _posted(request)
    currency, _ = await _currency(request, user)
    form = pf.read_form(posted, currency)
    if posted.get("add_variant"):
        form = pf.with_row(form, currency)
        return await _render_form(request, user, form, {}, product=None, focus=f"v{len(form.rows) - 1}_name")
    product_uuid = new_uuid1()
    body = pf.body_of(form, editing=False)
    errors = dict(body.errors)
    if errors:
        errors = {**pf.check_rest(body, product_uuid), **errors}
    else:
        try:
            await products.create_product(
                app_state(request).db, user.actor, {**body.document, "uuid": product_uuid}
            )
        except ServiceError as exc:
            errors = _violations(exc, body.rows)
        else:
            return RedirectResponse(f"/ui/products/{product_uuid}?done=created", status_code=303)
    return await _render_form(request, user, form, errors, product=None, status=400)


@router.get("/ui/products/{product}")
async def edit_product(request: Request, product: str) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.VIEW)
    stored = await products.get_product(app_state(request).db, user.actor, _product_uuid(product))
    currency, _ = await _currency(request, user)
    return await _render_form(request, user, pf.form_of(stored, currency), {}, product=stored)


@router.post("/ui/products/{product}")
async def save_product(request: Request, product: str) -> Response:
    """Save the form through `update_product` with the etag the form was opened with: a product
    changed meanwhile (412) is reported and nothing is overwritten."""
    user, posted = await _posted(request)
    db = app_state(request).db
    stored = await products.get_product(db, user.actor, _product_uuid(product))
    currency, _ = await _currency(request, user)
    form = pf.read_form(posted, currency)
    if posted.get("add_variant"):
        form = pf.with_row(form, currency)
        return await _render_form(
            request, user, form, {}, product=stored, focus=f"v{len(form.rows) - 1}_name"
        )
    body = pf.body_of(form, editing=True)
    errors = dict(body.errors)
    if errors:
        errors = {**pf.check_rest(body, stored.uuid), **errors}
    else:
        try:
            # An empty etag matches nothing: a form without one never overwrites blindly.
            await products.update_product(
                db, user.actor, stored.uuid, body.document, if_match=form.etag or '""'
            )
        except ServiceError as exc:
            if exc.status != 412:
                errors = _violations(exc, body.rows)
            else:
                errors = {"form": STALE}
                return await _render_form(request, user, form, errors, product=stored, status=409, stale=True)
        else:
            return RedirectResponse(f"/ui/products/{stored.uuid}?done=saved", status_code=303)
    return await _render_form(request, user, form, errors, product=stored, status=400)


@router.get("/ui/products/{product}/delete")
async def confirm_delete(request: Request, product: str) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.STOCK)
    stored = await products.get_product(app_state(request).db, user.actor, _product_uuid(product))
    context: dict[str, Any] = {
        "user": user,
        "active": "products",
        "title": f"Delete {stored.name or 'this product'}?",
        "product": stored,
        "variants": _lines(stored),
    }
    return page(request, "product_delete.html", context)


@router.post("/ui/products/{product}/delete")
async def delete_product(request: Request, product: str) -> Response:
    user, _ = await _posted(request)
    await products.delete_product(app_state(request).db, user.actor, _product_uuid(product))
    return RedirectResponse("/ui/products?done=deleted", status_code=303)


def _back(target: str, fallback: str, done: str) -> str:
    """Where a tracking button returns: a Products page address (never another site), with the notice."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui/products"):
        parts = urlsplit(fallback)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "done"] + [("done", done)]
    return f"{parts.path}?{urlencode(query)}"


@router.post("/ui/products/{product}/tracking")
async def set_tracking(request: Request, product: str) -> Response:
    """Start (`tracked=1`) or stop (`tracked=0`) tracking the product's stock; stopping keeps its
    balances (they reappear when tracking starts again). Already in that state: nothing changes."""
    user, posted = await _posted(request)
    product_uuid = _product_uuid(product)
    db = app_state(request).db
    start = posted.get("tracked") == "1"
    if start:
        await tracking.start(db, user.actor, product_uuid)
    else:
        try:
            await tracking.stop(db, user.actor, product_uuid)
        except ServiceError as exc:
            if exc.error_type != "PRODUCT_NOT_TRACKED":
                raise
    target = str(posted.get("back", ""))
    done = "tracking" if start else "untracked"
    return RedirectResponse(_back(target, f"/ui/products/{product_uuid}", done), status_code=303)
