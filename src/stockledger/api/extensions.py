"""Routes of the extensions (spec §8): history, stock counts, several stores (settings: api/organization)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field, StrictBool
from starlette.responses import Response

from stockledger.api import serialize
from stockledger.api.auth import Reader, Writer
from stockledger.api.fetch import parse_instant, parse_limit
from stockledger.api.idempotency import claim_of
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import (
    ERRORS,
    NO_NUL,
    ExternalUuid,
    LocationBalancesOut,
    LocationOut,
    Quantity,
    Uuid,
    Wire,
)
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.quantity import format_units, to_units
from stockledger.plumbing import app_state
from stockledger.service import counts, history, stores
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Extensions"])

Name = Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S"), NO_NUL]
Description = Annotated[str, Field(max_length=10_000), NO_NUL]


class CountIn(Wire):
    productUuid: Uuid
    variantUuid: Uuid
    balance: Quantity
    expectedBalance: Quantity | None = None


class CountsRequest(Wire):
    counts: list[CountIn]
    locationUuid: Uuid | None = None
    externalUuid: ExternalUuid | None = None


class StoreCreate(Wire):
    name: Name
    description: Description | None = None


class StoreUpdate(Wire):
    name: Name | None = None
    description: Description | None = None
    default: StrictBool | None = None


class MovementOut(Wire):
    uuid: str
    sequence: int
    productUuid: str
    variantUuid: str
    fromLocationUuid: str
    toLocationUuid: str
    change: str
    externalUuid: str | None
    source: str
    actor: str | None
    # The name of the person behind a PERSON:<account> actor (a back-office user), else null.
    actorName: str | None
    created: str


class HistoryOut(Wire):
    movements: list[MovementOut]
    nextCursor: str | None


def iso_ms(ms: int) -> str:
    """Epoch milliseconds → ISO-8601 UTC with milliseconds, e.g. 2026-11-26T13:18:11.966Z."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _uuid_param(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    canonical = canonical_uuid(value)
    if canonical is None:
        raise validation_error([Violation(name, "must be a UUID")])
    return canonical


@router.get("/organizations/{org}/inventory/movements", response_model=HistoryOut)
async def movement_history(
    request: Request,
    org: str,
    productUuid: str | None = Query(None),
    variantUuid: str | None = Query(None),
    locationUuid: str | None = Query(None, description="movements from or to this location"),
    externalUuid: str | None = Query(None),
    from_: str | None = Query(None, alias="from", description="ISO-8601, inclusive"),
    to: str | None = Query(None, description="ISO-8601, inclusive"),
    limit: str | None = Query(None, description=f"1 to {history.MAX_LIMIT}, default {history.DEFAULT_LIMIT}"),
    cursor: str | None = Query(None),
    actor: Actor = Reader,
) -> Response:
    filters = _history_filter(productUuid, variantUuid, locationUuid, from_, to, external_uuid=externalUuid)
    page = await history.history(
        app_state(request).db, actor, filters, limit=parse_limit(limit), cursor=cursor or None
    )
    return json_response(_history_body(page))


@router.get("/organizations/{org}/history/locations/{locationUuid}", response_model=HistoryOut)
async def location_history(
    request: Request,
    org: str,
    locationUuid: str,
    productUuid: str | None = Query(None),
    variantUuid: str | None = Query(None),
    from_: str | None = Query(None, alias="from", description="ISO-8601, inclusive"),
    to: str | None = Query(None, description="ISO-8601, inclusive"),
    limit: str | None = Query(None, description=f"1 to {history.MAX_LIMIT}, default {history.DEFAULT_LIMIT}"),
    cursor: str | None = Query(None),
    actor: Actor = Reader,
) -> Response:
    """The old Inventory API's location history, served from the ledger: the movements into and out
    of that location, newest first, in the shape of `GET …/inventory/movements` (the old API's own
    answer is documented nowhere and no client parses it). Other query parameters of the old API,
    such as `balanceChangeType`, are ignored."""
    filters = _history_filter(productUuid, variantUuid, locationUuid, from_, to)
    page = await history.location_history(
        app_state(request).db, actor, filters, limit=parse_limit(limit), cursor=cursor or None
    )
    return json_response(_history_body(page))


def _history_filter(
    product: str | None,
    variant: str | None,
    location: str | None,
    from_: str | None,
    to: str | None,
    *,
    external_uuid: str | None = None,
) -> history.HistoryFilter:
    """The history filters of the query (and path), each checked and named as its parameter."""
    return history.HistoryFilter(
        product_uuid=_uuid_param(product, "productUuid"),
        variant_uuid=_uuid_param(variant, "variantUuid"),
        location_uuid=_uuid_param(location, "locationUuid"),
        external_uuid=external_uuid,
        from_ms=parse_instant(from_, "from") if from_ else None,
        to_ms=parse_instant(to, "to") if to else None,
    )


def _history_body(page: history.HistoryPage) -> dict[str, object]:
    return {
        "movements": [
            {
                "uuid": m.uuid,
                "sequence": m.seq,
                "productUuid": m.product_uuid,
                "variantUuid": m.variant_uuid,
                "fromLocationUuid": m.from_location,
                "toLocationUuid": m.to_location,
                "change": format_units(m.units),
                "externalUuid": m.external_uuid,
                "source": m.source,
                "actor": m.actor,
                "actorName": page.actor_names.get(m.actor) if m.actor else None,
                "created": iso_ms(m.created_ms),
            }
            for m in page.movements
        ],
        "nextCursor": page.next_cursor,
    }


@router.post("/organizations/{org}/inventory/counts", response_model=LocationBalancesOut)
async def stock_counts(request: Request, org: str, body: CountsRequest, actor: Actor = Writer) -> Response:
    state = app_state(request)
    found = [
        counts.Count(
            c.productUuid,
            c.variantUuid,
            to_units(c.balance),
            None if c.expectedBalance is None else to_units(c.expectedBalance),
            f"counts[{i}]",
        )
        for i, c in enumerate(body.counts)
    ]
    result = await counts.apply_counts(
        state.db,
        actor,
        found,
        location_uuid=body.locationUuid,
        external_uuid=body.externalUuid,
        max_changes=state.settings.max_changes,
        default_low_stock_units=state.default_low_stock_units,
        claim=claim_of(request),
    )
    return json_response(serialize.location_balances(result))


@router.post("/organizations/{org}/locations", response_model=LocationOut, status_code=201)
async def create_store(request: Request, org: str, body: StoreCreate, actor: Actor = Writer) -> Response:
    location = await stores.create_store(
        app_state(request).db, actor, name=body.name, description=body.description, claim=claim_of(request)
    )
    return json_response(serialize.location(location), 201)


@router.put("/organizations/{org}/locations/{locationUuid}", response_model=LocationOut)
async def update_store(
    request: Request, org: str, locationUuid: str, body: StoreUpdate, actor: Actor = Writer
) -> Response:
    location_uuid = _uuid_param(locationUuid, "locationUuid")
    assert location_uuid is not None
    location = await stores.update_store(
        app_state(request).db,
        actor,
        location_uuid,
        name=body.name,
        description=body.description,
        description_given="description" in body.model_fields_set,
        make_default=body.default,
        claim=claim_of(request),
    )
    return json_response(serialize.location(location))
