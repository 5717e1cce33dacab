"""A route class for pages: failures become HTML pages (never a stack trace, never the API's JSON)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from stockledger.domain.errors import ServiceError
from stockledger.web.render import error_page
from stockledger.web.session import PasswordChangeRequired, SignInRequired, signed_in_or_none

log = logging.getLogger("stockledger.web")


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/ui/signin?next={quote(target, safe='')}", status_code=303)
            except PasswordChangeRequired:
                return RedirectResponse("/ui/account", status_code=303)
            except ServiceError as exc:
                return error_page(request, exc.status, exc.message, await signed_in_or_none(request))
            except RequestValidationError:
                return error_page(
                    request, 400, "The request was not understood.", await signed_in_or_none(request)
                )
            except HTTPException as exc:
                return error_page(request, exc.status_code, str(exc.detail), await signed_in_or_none(request))
            except Exception:
                log.exception("page failed", extra={"path": request.url.path})
                return error_page(request, 500, "The error was logged. Please try again in a moment.")

        return page_handler
