"""Choosing what to adjust without a UUID: search the library by name, SKU or barcode (as you type,
or with a plain search form), a barcode scanner's code + Enter choosing its variant directly, and
starting to track an untracked product from the adjust form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.domain.accounts import Permission
from stockledger.domain.backoffice import VariantNames
from stockledger.domain.ids import canonical_uuid
from stockledger.plumbing import app_state
from stockledger.service import backoffice, tracking, variant_search
from stockledger.service.variant_search import VariantSearch
from stockledger.web import session
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_FIND_CHARS = variant_search.MAX_TEXT_CHARS
NOTICES = {"tracking": "Stock of this product is tracked now: record what happened."}


def adjust_url(
    product: str = "", variant: str = "", location: str = "", action: str = "", **extra: str
) -> str:
    values = {"product": product, "variant": variant, "location": location, "action": action, **extra}
    kept = {k: v for k, v in values.items() if v}
    return "/ui/adjust" + (f"?{urlencode(kept)}" if kept else "")


def find_text(raw: object) -> str:
    return raw.strip()[:MAX_FIND_CHARS] if isinstance(raw, str) else ""


@dataclass(frozen=True)
class Chosen:
    """The variant the form adjusts, as the merchant knows it."""

    product: str
    variant: str
    names: VariantNames
    tracked: bool


async def chosen_variant(request: Request, user: session.UiUser, product: str, variant: str) -> Chosen | None:
    """The chosen variant's names and tracking state; None unless both are UUIDs."""
    product_uuid, variant_uuid = canonical_uuid(product), canonical_uuid(variant)
    if product_uuid is None or variant_uuid is None:
        return None
    db = app_state(request).db
    names = await backoffice.variant_label(db, user.actor, product_uuid, variant_uuid)
    tracked = product_uuid in await tracking.tracked_among(db, user.actor, [product_uuid])
    return Chosen(product_uuid, variant_uuid, names, tracked)


async def search(
    request: Request, user: session.UiUser, text: str, *, scanned: bool = False
) -> VariantSearch | None:
    if not text:
        return None
    return await variant_search.search_variants(app_state(request).db, user.actor, text, scanned=scanned)


def scanned(found: VariantSearch | None, location: str, action: str) -> Response | None:
    """A code that is exactly one variant's barcode or SKU (a scan, or a typed SKU + Enter) chooses
    that variant: the form opens for it."""
    if found is None or len(found.exact) != 1:
        return None
    pick = found.exact[0]
    return RedirectResponse(
        adjust_url(pick.product_uuid, pick.variant_uuid, location, action), status_code=303
    )


@router.get("/ui/adjust/variants")
async def variant_choices(request: Request) -> Response:
    """The type-ahead's list: the variants matching what was typed, each a link that opens the
    adjust form for it (an HTML fragment for htmx; a page of its own is the plain search form)."""
    user = await session.current_user(request)
    session.require(user, Permission.STOCK)
    query = request.query_params
    text = find_text(query.get("find", ""))
    context: dict[str, Any] = {
        "find": text,
        "search": await search(request, user, text),
        "location": canonical_uuid(query.get("location", "")) or "",
        "action": query.get("action", "")[:20],
        "adjust_url": adjust_url,
    }
    return page(request, "_variant_choices.html", context)


@router.post("/ui/adjust/track")
async def start_tracking(request: Request) -> Response:
    """Start tracking the chosen variant's product, then return to the adjust form with it chosen."""
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require(user, Permission.STOCK)
    product = canonical_uuid(form.get("product", ""))
    variant = canonical_uuid(form.get("variant", ""))
    if product is None or variant is None:
        return RedirectResponse(adjust_url(), status_code=303)
    await tracking.start(app_state(request).db, user.actor, product)
    location = canonical_uuid(form.get("location", "")) or ""
    action = str(form.get("action", ""))[:20]
    target = adjust_url(product, variant, location, action, done="tracking")
    return RedirectResponse(target, status_code=303)
