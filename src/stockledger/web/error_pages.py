"""The back office's 404 page for any unknown /ui path (included after every page router)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from stockledger.web.render import error_page
from stockledger.web.routing import PageRoute
from stockledger.web.session import signed_in_or_none

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/ui/{rest:path}", methods=ALL_METHODS)
async def not_found_page(request: Request, rest: str) -> Response:
    return error_page(request, 404, "There is no page at this address.", await signed_in_or_none(request))
