"""Routes of Inventory API v3 (v3 contract §4, §8, §9): inventories, tracking and low-stock settings.

One ledger, two APIs: an inventory is a location (same UUID), tracking and low-stock settings are the
old API's own, so whatever one API writes the other reads.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import StrictBool
from starlette.responses import Response

from stockledger.api.auth import Reader, Writer
from stockledger.api.extensions import Description, Name
from stockledger.api.idempotency import claim_of
from stockledger.api.low_stock import Level
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.v3_pages import page_limit, page_response, public_url
from stockledger.api.wire import ERRORS, Uuid, Wire
from stockledger.domain.errors import Violation, not_found, validation_error
from stockledger.domain.locations import Location, LocationType
from stockledger.domain.low_stock_rules import level_units
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import inventory, low_stock, stores, tracking
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Inventory v3"])


class InventoryOut(Wire):
    inventoryUuid: str
    inventoryType: Literal["STORE", "SUPPLIER", "SOLD", "BIN"]
    name: str
    description: str
    defaultInventory: bool


class InventoryIn(Wire):
    name: Name
    description: Description | None = None


class TrackingIn(Wire):
    productUuid: Uuid
    tracking: Literal["enable", "disable"]


class TrackingOut(Wire):
    productUuid: str
    enabled: bool


class LowStockIn(Wire):
    """Omitted `lowStockLevel` / `lowStockAlert` stay as stored; `lowStockLevel` null or 0 removes
    the level (a null `lowStockAlert` counts as omitted)."""

    inventoryUuid: Uuid
    productUuid: Uuid
    variantUuid: Uuid
    lowStockLevel: Level = None
    lowStockAlert: StrictBool | None = None


def inventory_json(location: Location) -> dict[str, Any]:
    """The v3 Inventory object: a location under v3 names; `description` is always a string
    (one client types it so), `""` for a store created without one."""
    return {
        "inventoryUuid": location.uuid,
        "inventoryType": location.type,
        "name": location.name,
        "description": location.description or "",
        "defaultInventory": location.is_default,
    }


def v3_order(found: list[Location]) -> list[Location]:
    """The default STORE after every other STORE: one client keys the list by type, so the last
    STORE is the one it uses (v3 §4.1). Other locations keep the old listing's order."""
    stores_first = [loc for loc in found if loc.type == LocationType.STORE and not loc.is_default]
    default = [loc for loc in found if loc.type == LocationType.STORE and loc.is_default]
    others = [loc for loc in found if loc.type != LocationType.STORE]
    return stores_first + default + others


def _check_count(count: int, limit: int) -> None:
    if count > limit:
        raise validation_error([Violation("", f"the list must contain at most {limit} entries")])


# ---- inventories -------------------------------------------------------------------------------


@router.get("/v3/inventories", response_model=list[InventoryOut])
async def list_inventories(request: Request, actor: Actor = Reader) -> Response:
    """Every inventory of the organization, never paged (no `Link`: one client refuses any)."""
    found = await inventory.list_locations(app_state(request).db, actor)
    return json_response([inventory_json(loc) for loc in v3_order(found)])


@router.get("/v3/inventories/{inventoryUuid}", response_model=InventoryOut)
async def get_inventory(request: Request, inventoryUuid: str, actor: Actor = Reader) -> Response:
    wanted = path_uuid(inventoryUuid, "inventoryUuid")
    for location in await inventory.list_locations(app_state(request).db, actor):
        if location.uuid == wanted:
            return json_response(inventory_json(location))
    raise not_found(f"Inventory {wanted} not found")


@router.post("/v3/inventories", response_model=InventoryOut, status_code=201)
async def create_inventory(request: Request, body: InventoryIn, actor: Actor = Writer) -> Response:
    """A new STORE inventory (the old API lists it as a location); 201 with its `Location`."""
    location = await stores.create_store(
        app_state(request).db, actor, name=body.name, description=body.description, claim=claim_of(request)
    )
    headers = {"Location": public_url(request, f"/v3/inventories/{location.uuid}")}
    return json_response(inventory_json(location), 201, headers)


# ---- tracking ----------------------------------------------------------------------------------


@router.post("/v3/products", status_code=204, response_class=Response)
async def set_tracking(
    request: Request, body: Annotated[list[TrackingIn], Body()], actor: Actor = Writer
) -> Response:
    """Enable / disable tracking; idempotent; a product named twice takes its last entry."""
    state = app_state(request)
    _check_count(len(body), state.settings.max_changes)
    wanted = [(entry.productUuid, entry.tracking == "enable") for entry in body]
    await tracking.set_many(state.db, actor, wanted, claim=claim_of(request))
    return Response(status_code=204)


@router.post("/v3/products/status", response_model=list[TrackingOut])
async def tracking_status(
    request: Request, body: Annotated[list[Uuid], Body()], actor: Actor = Reader
) -> Response:
    """One row per requested product, in request order (`enabled: false` when not tracked). A read,
    despite the verb."""
    state = app_state(request)
    _check_count(len(body), state.settings.max_changes)
    tracked = await tracking.tracked_among(state.db, actor, body)
    return json_response([{"productUuid": p, "enabled": p in tracked} for p in body])


@router.get("/v3/products", response_model=list[TrackingOut])
async def tracked_products(
    request: Request,
    limit: str | None = Query(None, description="1 to 1,000 (larger values count as 1,000), default 100"),
    cursor: str | None = Query(None, description="from the previous page's Link"),
    actor: Actor = Reader,
) -> Response:
    """Tracked products by UUID, paged (`Link: <…>; rel="next"` only when there is more)."""
    page_size = page_limit(limit)
    page = await tracking.tracked_page(app_state(request).db, actor, limit=page_size, cursor=cursor or None)
    rows = [{"productUuid": p, "enabled": True} for p in page.product_uuids]
    return page_response(request, rows, page.next_cursor, page_size)


# ---- low stock ---------------------------------------------------------------------------------


@router.post("/v3/custom-low-stock", status_code=204, response_class=Response)
async def set_low_stock(
    request: Request, body: Annotated[list[LowStockIn], Body()], actor: Actor = Writer
) -> Response:
    """Set or remove low-stock levels and alerts (the old `/custom-low-stock/…` settings)."""
    state = app_state(request)
    _check_count(len(body), state.settings.max_changes)
    entries = []
    for i, entry in enumerate(body):
        level = entry.lowStockLevel
        entries.append(
            low_stock.ConfigPatch(
                entry.inventoryUuid,
                entry.productUuid,
                entry.variantUuid,
                level_given="lowStockLevel" in entry.model_fields_set,
                level_units=None if level is None or level == 0 else level_units(level),
                alert=entry.lowStockAlert,
                path=f"[{i}]",
            )
        )
    await low_stock.patch(state.db, actor, entries, claim=claim_of(request))
    return Response(status_code=204)
