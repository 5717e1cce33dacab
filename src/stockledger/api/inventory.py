"""Routes of the Zettle Inventory API (spec §5): locations, tracking, fetches, updates, bulk."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from stockledger.api import fetch, serialize
from stockledger.api.auth import Reader, Writer
from stockledger.api.idempotency import claim_of
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import (
    ERRORS,
    BulkRequest,
    LocationBalancesOut,
    LocationInventoryOut,
    LocationOut,
    ProductsQuery,
    StartTracking,
    UpdateBalances,
    changes_of,
    to_change,
)
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.locations import parse_location_type
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import inventory, inventory_writes, tracking
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, Since

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Inventory"])

MAX_SEQ = 2**63 - 1  # sequence numbers are BIGINT


def parse_since(raw: str | None) -> Since | None:
    """`since` is a previous `latest` (integer) or an ISO-8601 instant."""
    if raw is None or raw == "":
        return None
    if raw.isascii() and raw.isdigit():
        # int() refuses more than 4,300 digits: a number longer than 2^63 − 1 is refused unread
        seq = int(raw) if len(raw) <= len(str(MAX_SEQ)) else MAX_SEQ + 1
        if seq > MAX_SEQ:
            raise validation_error([Violation("since", "is larger than any sequence number")])
        return Since(seq=seq)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise validation_error([Violation("since", "must be an integer or an ISO-8601 date-time")]) from None
    if moment.tzinfo is None:
        raise validation_error([Violation("since", "must include a time zone")])
    return Since(ms=int(moment.timestamp() * 1000))


SinceQuery = Query(None, description="A previous `latest`, or an ISO-8601 date-time")


@router.get("/organizations/{org}/locations", response_model=list[LocationOut])
async def list_locations(request: Request, org: str, actor: Actor = Reader) -> Response:
    found = await inventory.list_locations(app_state(request).db, actor)
    return json_response([serialize.location(loc) for loc in found])


@router.post("/organizations/{org}/inventory", response_model=LocationBalancesOut)
async def start_tracking(request: Request, org: str, body: StartTracking, actor: Actor = Writer) -> Response:
    result = await tracking.start(app_state(request).db, actor, body.productUuid, claim=claim_of(request))
    return json_response(serialize.location_balances(result))


# The busiest route, so tried early: each route before it costs a path match per request, twice in
# the router that matches. Not before POST on the same path, whose place makes it the route that
# answers 405 to other methods there (its Allow header).
@router.put("/organizations/{org}/inventory", response_model=LocationBalancesOut)
async def update_balances(
    request: Request, org: str, body: UpdateBalances, actor: Actor = Writer
) -> Response:
    state = app_state(request)
    result = await inventory_writes.update_balances(
        state.db,
        actor,
        changes_of(body),
        return_location=body.returnBalanceForLocationUuid,
        external_uuid=body.externalUuid,
        max_changes=state.settings.max_changes,
        default_low_stock_units=state.default_low_stock_units,
        claim=claim_of(request),
    )
    return json_response(serialize.location_balances(result))


@router.delete("/organizations/{org}/inventory/products/{productUuid}", status_code=204)
async def stop_tracking(request: Request, org: str, productUuid: str, actor: Actor = Writer) -> Response:
    await tracking.stop(
        app_state(request).db, actor, path_uuid(productUuid, "productUuid"), claim=claim_of(request)
    )
    return Response(status_code=204)


async def _inventory(request: Request, actor: Actor, ref: LocationRef, since: str | None) -> Response:
    # asOf, limit/cursor paging and the streamed whole list (spec §8) live in api/fetch.py.
    return await fetch.location_inventory_response(request, actor, ref, parse_since(since))


@router.get("/inventory", response_model=LocationInventoryOut, openapi_extra=fetch.OPENAPI_EXTRA)
async def default_inventory(
    request: Request, since: str | None = SinceQuery, actor: Actor = Reader
) -> Response:
    return await _inventory(request, actor, LocationRef(), since)


@router.get(
    "/organizations/{org}/inventory", response_model=LocationInventoryOut, openapi_extra=fetch.OPENAPI_EXTRA
)
async def org_inventory(
    request: Request, org: str, since: str | None = SinceQuery, actor: Actor = Reader
) -> Response:
    return await _inventory(request, actor, LocationRef(), since)


@router.get(
    "/organizations/{org}/inventory/locations",
    response_model=LocationInventoryOut,
    openapi_extra=fetch.OPENAPI_EXTRA,
)
async def inventory_by_type(
    request: Request,
    org: str,
    type: str | None = Query(None, description="STORE, SOLD, BIN or SUPPLIER (any case)"),
    since: str | None = SinceQuery,
    actor: Actor = Reader,
) -> Response:
    kind = parse_location_type(type) if type is not None else None
    if kind is None:
        raise validation_error([Violation("type", "must be one of STORE, SOLD, BIN, SUPPLIER")])
    return await _inventory(request, actor, LocationRef(type=kind.value), since)


@router.get(
    "/organizations/{org}/inventory/locations/{locationUuid}",
    response_model=LocationInventoryOut,
    openapi_extra=fetch.OPENAPI_EXTRA,
)
async def inventory_of_location(
    request: Request, org: str, locationUuid: str, since: str | None = SinceQuery, actor: Actor = Reader
) -> Response:
    return await _inventory(request, actor, LocationRef(uuid=path_uuid(locationUuid, "locationUuid")), since)


@router.post("/organizations/{org}/inventory/products", response_model=LocationInventoryOut)
async def inventory_of_products(
    request: Request, org: str, body: ProductsQuery, actor: Actor = Reader
) -> Response:
    kind = None
    if body.locationType is not None:
        parsed = parse_location_type(body.locationType)
        if parsed is None:
            raise validation_error([Violation("locationType", "must be one of STORE, SOLD, BIN, SUPPLIER")])
        kind = parsed.value
    ref = LocationRef(uuid=body.locationUuid, type=kind)
    result = await inventory.location_inventory(
        app_state(request).db, actor, ref, in_path=False, product_filter=body.productUuids
    )
    return json_response(serialize.location_inventory(result))


@router.get(
    "/organizations/{org}/inventory/locations/{locationUuid}/products/{productUuid}",
    response_model=LocationBalancesOut,
)
async def product_in_location(
    request: Request, org: str, locationUuid: str, productUuid: str, actor: Actor = Reader
) -> Response:
    result = await inventory.product_balances(
        app_state(request).db,
        actor,
        path_uuid(locationUuid, "locationUuid"),
        path_uuid(productUuid, "productUuid"),
    )
    return json_response(serialize.location_balances(result))


@router.post("/organizations/{org}/v2/inventory/bulk", response_model=LocationBalancesOut)
async def bulk_update(request: Request, org: str, body: BulkRequest, actor: Actor = Writer) -> Response:
    state = app_state(request)
    product_changes = []
    for i, pc in enumerate(body.productChanges):
        path = f"productChanges[{i}]"
        changes = [
            to_change(
                pc.productUuid,
                vc.variantUuid,
                vc.fromLocationUuid,
                vc.toLocationUuid,
                vc.change,
                f"{path}.variantChanges[{j}]",
            )
            for j, vc in enumerate(pc.variantChanges)
        ]
        product_changes.append(
            inventory_writes.ProductChange(pc.productUuid, pc.trackingStatusChange, changes, path)
        )
    result = await inventory_writes.bulk(
        state.db,
        actor,
        product_changes,
        return_location=body.returnBalanceForLocationUuid,
        max_changes=state.settings.max_changes,
        default_low_stock_units=state.default_low_stock_units,
        claim=claim_of(request),
    )
    return json_response(serialize.location_balances(result))
