"""Fast JSON responses (orjson) and the Zettle error body (spec §3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from stockledger.domain.errors import ServiceError, Violation


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=dict(headers or {}))


def error_body(message: str, error_type: str, violations: list[Violation] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"developerMessage": message, "errorType": error_type}
    if violations:
        body["violations"] = [
            {"propertyName": v.property_name, "developerMessage": v.message} for v in violations
        ]
    return body


def error_response(error: ServiceError) -> JSONResponse:
    body = error_body(error.message, error.error_type, error.violations)
    body.update(error.extra)
    return json_response(body, error.status, error.headers)
