"""A route class whose JSON bodies keep decimals exact (no binary floats ever enter the service)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

MAX_JSON_DEPTH_GUARD = "nesting too deep"


def _reject_constant(name: str) -> Any:
    # NaN, Infinity and -Infinity are not JSON; Python's parser would accept them.
    raise json.JSONDecodeError(f"{name} is not allowed", name, 0)


def loads_exact(body: bytes | str) -> Any:
    """Parse JSON with numbers as Decimal; malformed, non-UTF-8 or absurdly nested input → JSONDecodeError."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError:
        raise json.JSONDecodeError(MAX_JSON_DEPTH_GUARD, "", 0) from None
    except UnicodeDecodeError:
        raise json.JSONDecodeError("body is not valid UTF-8", "", 0) from None


class ExactJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_exact(await self.body())
        return self._json


class ExactJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact_handler(request: Request) -> Response:
            return await handler(ExactJSONRequest(request.scope, request.receive))

        return exact_handler
