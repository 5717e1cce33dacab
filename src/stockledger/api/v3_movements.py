"""Inventory API v3 (contract §7): `POST /v3/movements`, the old PUT's write in v3's wire format.

A movement moves `change` of one variant from one inventory (a location, same UUID) to another. The
request goes through the same write queue, transaction and posting as `PUT /organizations/{org}/
inventory`: one ledger, two wire formats. It answers 204 with no body; `identifier` is the movements'
`externalUuid` (recorded, echoed in InventoryBalanceChanged) and never de-duplicates anything.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ConfigDict, Field
from starlette.responses import Response

from stockledger.api.auth import Writer
from stockledger.api.idempotency import claim_of
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS, ExternalUuid, PositiveQuantity, Uuid, Wire
from stockledger.domain.changes import V3_LOCATION_PROPERTIES, Change
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.quantity import to_units
from stockledger.plumbing import app_state
from stockledger.service import inventory_writes
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Inventory v3"])


class MovementIn(Wire):
    """One movement; unknown keys (one client adds `reason` and `timestamp`) are ignored."""

    # Only the wire names: `from` is a Python keyword, and `from_` must not be read from a body.
    model_config = ConfigDict(extra="ignore", populate_by_name=False)

    productUuid: Uuid
    variantUuid: Uuid
    from_: Uuid = Field(alias="from", description="The inventory the quantity leaves")
    to: Uuid = Field(description="The inventory the quantity enters")
    change: PositiveQuantity = Field(description="How much moves: > 0, at most 3 decimals")


class MovementsIn(Wire):
    movements: list[MovementIn] = Field(min_length=1)
    identifier: ExternalUuid | None = Field(
        None, description="Echoed as `externalUuid` in InventoryBalanceChanged; not an idempotency key"
    )


def changes_of(body: MovementsIn) -> list[Change]:
    """The ledger's changes, each naming its place in the request (`movements[i]`) for errors;
    every movement whose two inventories are one is named at once."""
    same = [
        Violation(f"movements[{i}].to", "must differ from from")
        for i, m in enumerate(body.movements)
        if m.from_ == m.to
    ]
    if same:
        raise validation_error(same)
    return [
        Change(
            m.productUuid,
            m.variantUuid,
            m.from_,
            m.to,
            to_units(m.change),
            f"movements[{i}]",
            V3_LOCATION_PROPERTIES,
        )
        for i, m in enumerate(body.movements)
    ]


@router.post("/v3/movements", status_code=204, response_class=Response)
async def post_movements(request: Request, body: MovementsIn, actor: Actor = Writer) -> Response:
    """Move stock between inventories: every movement or none; 204 with no body."""
    state = app_state(request)
    await inventory_writes.move(
        state.db,
        actor,
        changes_of(body),
        external_uuid=body.identifier,
        max_changes=state.settings.max_changes,
        default_low_stock_units=state.default_low_stock_units,
        claim=claim_of(request),
    )
    return Response(status_code=204)
