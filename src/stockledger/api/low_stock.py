"""Routes of Zettle's custom low-stock API (spec §6) and the low-stock view extension.

GET answers carry a strong ETag computed from the exact bytes of the body, so the tag changes
exactly when the configuration it shows changes, and `If-None-Match` answers 304 otherwise.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BeforeValidator, Field, StrictBool, WithJsonSchema
from starlette.responses import Response

from stockledger.api import serialize
from stockledger.api.auth import Reader, Writer
from stockledger.api.idempotency import claim_of
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS, LocationInventoryOut, Uuid, Wire
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.low_stock_rules import LowStockConfig, level_to_wire, level_units
from stockledger.domain.quantity import parse_quantity
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import low_stock
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Low stock"])

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: `If-None-Match` holds the current ETag (no body)"}
}


def _level(value: Any) -> Decimal | None:
    if value is None:
        return None
    number = parse_quantity(value)
    if number < 0:
        raise ValueError("must be greater than or equal to 0")
    return number


Level = Annotated[
    Decimal | None,
    BeforeValidator(_level),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}, {"type": "null"}]},
    ),
]


class LowStockIn(Wire):
    """One variant's configuration. Omitted fields take their defaults (PUT replaces the whole setting)."""

    productUuid: Uuid
    variantUuid: Uuid
    lowStockLevel: Level = None
    lowStockAlert: StrictBool | None = None
    locationUuid: Uuid | None = Field(
        None, description="Optional: the location of this entry, when it is not the path's"
    )


class LowStockBatchIn(Wire):
    requests: list[LowStockIn]


class VariantRefIn(Wire):
    productUuid: Uuid
    variantUuid: Uuid
    locationUuid: Uuid | None = None


class DeleteBatchIn(Wire):
    requests: list[VariantRefIn]


class VariantLevelOut(Wire):
    variantUuid: str
    customLowStockLevel: float | None
    lowStockAlert: bool


class ProductLevelsOut(Wire):
    productUuid: str
    customLowStockLevelForVariants: list[VariantLevelOut]


class LocationLevelsOut(Wire):
    organizationUuid: str
    locationUuid: str
    customLowStockLevelsForProducts: list[ProductLevelsOut]


# ---- ETags -------------------------------------------------------------------------------------

_ENTITY_TAG = re.compile(r'(?:W/)?"([^"]*)"')


def strong_etag(body: bytes) -> str:
    """A strong validator: the digest of the exact representation bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def none_match(header: str | None, etag: str) -> bool:
    """True when `If-None-Match` matches the current tag: `*`, or any tag of the list (weak comparison,
    as RFC 9110 prescribes for If-None-Match)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    current = etag.removeprefix("W/").strip('"')
    return any(match.group(1) == current for match in _ENTITY_TAG.finditer(header))


def tagged(request: Request, content: dict[str, Any]) -> Response:
    """200 with the body and its ETag, or 304 (no body) when the client already holds it."""
    body = orjson.dumps(content)
    etag = strong_etag(body)
    headers = {"ETag": etag}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


# ---- wire form ---------------------------------------------------------------------------------


def _variant(cfg: LowStockConfig) -> dict[str, Any]:
    return {
        "variantUuid": cfg.variant_uuid,
        "customLowStockLevel": level_to_wire(cfg.level_units),
        "lowStockAlert": cfg.alert,
    }


def _by_product(configs: list[LowStockConfig]) -> list[dict[str, Any]]:
    grouped: list[dict[str, Any]] = []
    for cfg in configs:  # ordered by product then variant
        if not grouped or grouped[-1]["productUuid"] != cfg.product_uuid:
            grouped.append({"productUuid": cfg.product_uuid, "customLowStockLevelForVariants": []})
        grouped[-1]["customLowStockLevelForVariants"].append(_variant(cfg))
    return grouped


def _request_of(entry: LowStockIn, path: str) -> low_stock.ConfigRequest:
    return low_stock.ConfigRequest(
        entry.productUuid,
        entry.variantUuid,
        level_units(entry.lowStockLevel),
        bool(entry.lowStockAlert),
        path,
        entry.locationUuid,
    )


def _check_count(count: int, limit: int) -> None:
    if count > limit:
        raise validation_error([Violation("requests", f"must contain at most {limit} entries")])


# ---- routes ------------------------------------------------------------------------------------


@router.put("/custom-low-stock/locations/{locationUuid}", status_code=204)
async def put_level(request: Request, locationUuid: str, body: LowStockIn, actor: Actor = Writer) -> Response:
    """Set one variant's level and alert; both at their defaults deletes the configuration."""
    location = path_uuid(locationUuid, "locationUuid")
    await low_stock.save(
        app_state(request).db, actor, location, [_request_of(body, "")], claim=claim_of(request)
    )
    return Response(status_code=204)


@router.post("/custom-low-stock/locations/{locationUuid}", status_code=204)
async def post_levels(
    request: Request, locationUuid: str, body: LowStockBatchIn, actor: Actor = Writer
) -> Response:
    """Set many configurations at once: all of them or, on any invalid entry, none."""
    location = path_uuid(locationUuid, "locationUuid")
    state = app_state(request)
    _check_count(len(body.requests), state.settings.max_changes)
    entries = [_request_of(entry, f"requests[{i}]") for i, entry in enumerate(body.requests)]
    await low_stock.save(state.db, actor, location, entries, claim=claim_of(request))
    return Response(status_code=204)


@router.get(
    "/custom-low-stock/v2/locations/{locationUuid}", response_model=LocationLevelsOut, responses=NOT_MODIFIED
)
async def get_levels(request: Request, locationUuid: str, actor: Actor = Reader) -> Response:
    found = await low_stock.location_configs(
        app_state(request).db, actor, path_uuid(locationUuid, "locationUuid")
    )
    return tagged(
        request,
        {
            "organizationUuid": found.organization_uuid,
            "locationUuid": found.location_uuid,
            "customLowStockLevelsForProducts": _by_product(found.configs),
        },
    )


@router.get(
    "/custom-low-stock/v2/locations/{locationUuid}/products/{productUuid}",
    response_model=ProductLevelsOut,
    responses=NOT_MODIFIED,
)
async def get_product_levels(
    request: Request, locationUuid: str, productUuid: str, actor: Actor = Reader
) -> Response:
    product = path_uuid(productUuid, "productUuid")
    found = await low_stock.location_configs(
        app_state(request).db, actor, path_uuid(locationUuid, "locationUuid"), product
    )
    return tagged(
        request,
        {"productUuid": product, "customLowStockLevelForVariants": [_variant(c) for c in found.configs]},
    )


@router.delete(
    "/custom-low-stock/locations/{locationUuid}/products/{productUuid}/variants/{variantUuid}",
    status_code=202,
    response_class=Response,
    responses={202: {"description": "Accepted; the answer has no body"}},
)
async def delete_level(
    request: Request, locationUuid: str, productUuid: str, variantUuid: str, actor: Actor = Writer
) -> Response:
    """Back to the defaults; answered 202 also when nothing was stored."""
    ref = low_stock.VariantRef(path_uuid(productUuid, "productUuid"), path_uuid(variantUuid, "variantUuid"))
    await low_stock.remove(
        app_state(request).db, actor, path_uuid(locationUuid, "locationUuid"), [ref], claim=claim_of(request)
    )
    return Response(status_code=202)


@router.post(
    "/custom-low-stock/locations/{locationUuid}/delete",
    status_code=202,
    response_class=Response,
    responses={202: {"description": "Accepted; the answer has no body"}},
)
async def delete_levels(
    request: Request, locationUuid: str, body: DeleteBatchIn, actor: Actor = Writer
) -> Response:
    location = path_uuid(locationUuid, "locationUuid")
    state = app_state(request)
    _check_count(len(body.requests), state.settings.max_changes)
    refs = [
        low_stock.VariantRef(e.productUuid, e.variantUuid, f"requests[{i}]", e.locationUuid)
        for i, e in enumerate(body.requests)
    ]
    await low_stock.remove(state.db, actor, location, refs, claim=claim_of(request))
    return Response(status_code=202)


@router.get(
    "/organizations/{org}/inventory/locations/{locationUuid}/low-stock",
    response_model=LocationInventoryOut,
    tags=["Inventory"],
)
async def low_stock_view(request: Request, org: str, locationUuid: str, actor: Actor = Reader) -> Response:
    """Extension: tracked variants with alert on whose balance is at or below their level."""
    state = app_state(request)
    result = await low_stock.low_stock_view(
        state.db,
        actor,
        path_uuid(locationUuid, "locationUuid"),
        default_units=state.default_low_stock_units,
    )
    return json_response(serialize.location_inventory(result))
