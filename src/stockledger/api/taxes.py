"""Zettle's taxes API (`/v1/taxes…` on the products host; product-library-api §3.11).

Tax rates exist only for sales-tax organizations; Zettle answers 403 to a VAT organization, and
integrations rely on it: BjornTech's plugin reads that 403 as "VAT merchant, send vatPercentage"
(a 200 would make it send taxRates instead). Every organization's profile here is a VAT one, so
each call answers that 403, after the usual authentication and scope checks, and writes nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from stockledger.api.auth import Reader, Writer
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS, ErrorOut
from stockledger.domain.organization import taxes_refused
from stockledger.plumbing import app_state
from stockledger.service import settings
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Taxes"])
# Every call answers 403 here (a VAT organization): documented as each route's answer.
REFUSED = 403


async def _refusal(request: Request, actor: Actor) -> Response:
    found = await settings.get(app_state(request).db, actor)
    raise taxes_refused(found.profile)


@router.get("/v1/taxes/settings", status_code=REFUSED, response_model=ErrorOut)
async def tax_settings(request: Request, actor: Actor = Reader) -> Response:
    """The organization's sales-tax settings: 403 for a VAT organization."""
    return await _refusal(request, actor)


@router.get("/v1/taxes", status_code=REFUSED, response_model=ErrorOut)
async def tax_rates(request: Request, actor: Actor = Reader) -> Response:
    """The organization's sales-tax rates: 403 for a VAT organization."""
    return await _refusal(request, actor)


@router.get("/v1/taxes/{taxRateUuid}", status_code=REFUSED, response_model=ErrorOut)
async def tax_rate(request: Request, taxRateUuid: str, actor: Actor = Reader) -> Response:
    """One sales-tax rate: 403 for a VAT organization."""
    return await _refusal(request, actor)


@router.post("/v1/taxes", status_code=REFUSED, response_model=ErrorOut)
async def create_tax_rates(request: Request, actor: Actor = Writer) -> Response:
    """Create sales-tax rates (`{"taxRates": [...]}`): 403 for a VAT organization, nothing written."""
    return await _refusal(request, actor)
