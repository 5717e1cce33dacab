"""The Purchase API v2, read side (host purchase.izettle.com; product-library-api §6): the purchases
stockledger recorded, in Zettle's shape. No organization in the path: it is the token's."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from stockledger.api.auth import requires
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS, Wire
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.purchase_fields import any_uuid
from stockledger.plumbing import READ_PURCHASE, app_state
from stockledger.service import purchase_reads
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Purchases (v2)"])
PurchaseReader = Depends(requires(READ_PURCHASE))


class PurchaseLineOut(Wire):
    """A line of the purchase. Absent values are null ("" for `name` and `variantName`)."""

    id: str
    quantity: str
    productUuid: str | None
    variantUuid: str | None
    name: str
    variantName: str
    sku: str | None
    unitPrice: int
    vatPercentage: float | None
    taxRates: list[dict[str, Any]]
    taxExempt: bool
    rowTaxableAmount: int
    type: str
    libraryProduct: bool
    fromLocationUuid: str | None
    toLocationUuid: str | None


class PurchaseOut(Wire):
    """The purchase (abridged here: every documented key of Zettle's purchase object is sent)."""

    source: str
    purchaseUUID: str
    purchaseUUID1: str
    amount: int
    vatAmount: int
    country: str
    currency: str
    timestamp: str
    created: str
    purchaseNumber: int
    globalPurchaseNumber: int
    products: list[PurchaseLineOut]
    payments: list[dict[str, Any]]
    groupedVatAmounts: dict[str, int]
    refund: bool
    refunded: bool
    refundsPurchaseUUID1: str | None
    refundedByPurchaseUUIDs1: list[str]


class PurchasePageOut(Wire):
    purchases: list[PurchaseOut]
    firstPurchaseHash: str | None
    lastPurchaseHash: str | None
    linkUrls: list[str]


def _next_link(request: Request, repeated: tuple[tuple[str, str], ...], last_hash: str) -> str:
    """Zettle's `linkUrls` entry: the caller's parameters again, continuing after this page."""
    query = urlencode([*repeated, ("lastPurchaseHash", last_hash)])
    base = str(request.base_url).rstrip("/")
    return f'<{base}/purchases/v2?{query}>; rel="next"'


# Declared for the documentation; the values are read from the query string as sent and checked by
# domain/purchase_paging.py (one 400 naming every bad parameter).
_DATE = "inclusive start / exclusive end: ISO 8601 date or date-time, UTC unless an offset is given"


@router.get("/purchases/v2", response_model=PurchasePageOut)
async def list_purchases(
    request: Request,
    startDate: Annotated[str | None, Query(description=_DATE)] = None,
    endDate: Annotated[str | None, Query(description=_DATE)] = None,
    limit: Annotated[str | None, Query(description="1 to 1000 (default 1000)")] = None,
    descending: Annotated[str | None, Query(description="true: newest first")] = None,
    lastPurchaseHash: Annotated[str | None, Query(description="continue after this purchase")] = None,
    actor: Actor = PurchaseReader,
) -> Response:
    """The organization's purchases with startDate <= timestamp < endDate (default: the last three
    years), oldest first (`descending=true`: newest first), at most `limit` (1-1000, default 1000),
    continuing after `lastPurchaseHash`. No `Link` header: the next page is in `linkUrls`."""
    query = purchase_reads.parse_query(request.query_params)
    found = await purchase_reads.page(app_state(request).db, actor.org, query)
    links = [_next_link(request, query.repeated, found.last_hash)] if found.more and found.last_hash else []
    return json_response(
        {
            "purchases": found.purchases,
            "firstPurchaseHash": found.first_hash,
            "lastPurchaseHash": found.last_hash,
            "linkUrls": links,
        }
    )


@router.get("/purchase/v2/{purchaseUuid}", response_model=PurchaseOut)
async def get_purchase(request: Request, purchaseUuid: str, actor: Actor = PurchaseReader) -> Response:
    """One purchase by its UUID (`purchaseUUID1`) or its 22-character `purchaseUUID`; another
    organization's or an unknown one → 404."""
    purchase_uuid = any_uuid(purchaseUuid)
    if purchase_uuid is None:
        raise validation_error([Violation("purchaseUuid", "must be a UUID")])
    return json_response(await purchase_reads.one(app_state(request).db, actor.org, purchase_uuid))
