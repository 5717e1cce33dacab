"""A route class whose JSON bodies keep decimals exact (no binary floats ever enter the service) and
whose path only claims the paths it could serve (an unknown path is a 404, not a 405)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from stockledger.domain.ids import canonical_uuid
from stockledger.exact_json import loads_exact


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

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A path this route's template matches but whose parameters name nothing it could serve
        (`GET …/locations/template` against `PUT …/locations/{locationUuid}`) is not this route's:
        answered 405 it would claim a resource exists there. Only the method mismatch is judged
        this way; a request with the right method still gets its 400 naming the bad parameter."""
        match, child_scope = super().matches(scope)
        if match is Match.PARTIAL and not plausible_path_params(child_scope.get("path_params", {})):
            return Match.NONE, {}
        return match, child_scope


def plausible_path_params(params: dict[str, Any]) -> bool:
    """`{org}` is `self` or a UUID; every `{…Uuid}` parameter is a UUID."""
    for name, value in params.items():
        text = str(value)
        if name == "org":
            if text != "self" and canonical_uuid(text) is None:
                return False
        elif (name == "uuid" or name.endswith("Uuid")) and canonical_uuid(text) is None:
            return False
    return True
