"""Exception handlers: every failure, including unknown routes and methods, in the Zettle shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from stockledger.api.responses import error_body, error_response, json_response
from stockledger.domain.errors import ServiceError, Violation, validation_error

log = logging.getLogger("stockledger.api")

_STATUS_TYPES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "ENTITY_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
}


def property_path(loc: tuple[Any, ...]) -> str:
    """('body', 'changes', 0, 'change') → 'changes[0].change' (the Zettle violation path)."""
    parts = list(loc[1:] if loc and loc[0] in {"body", "query", "path", "header"} else loc)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        loc = tuple(error.get("loc", ()))
        return "a JSON request body is required" if loc == ("body",) else "must not be null"
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error")
        return f"malformed JSON: {reason}" if reason else "malformed JSON"
    if kind in {"model_attributes_type", "dict_type"}:
        if isinstance(error.get("input"), bytes):  # the body was not parsed: not declared as JSON
            return "must be a JSON object sent with Content-Type: application/json"
        return "must be a JSON object"
    if kind == "list_type":  # Inventory v3 bodies are JSON arrays
        if isinstance(error.get("input"), bytes):
            return "must be a JSON array sent with Content-Type: application/json"
        return "must be a JSON array"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def violations_from(errors: list[dict[str, Any]]) -> list[Violation]:
    violations = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            loc = ("body",)
        violations.append(Violation(property_path(loc), _message(error)))
    return violations


async def _service_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_response(exc)


async def _request_validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    violations = violations_from(list(exc.errors())) or [Violation("", "invalid request")]
    return error_response(validation_error(violations))


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error_type = _STATUS_TYPES.get(
        exc.status_code, "VALIDATION_ERROR" if exc.status_code < 500 else "INTERNAL_ERROR"
    )
    if exc.status_code == 404:
        message = "No such resource"
    elif exc.status_code == 405:
        message = "Method not allowed"
    else:
        message = str(exc.detail)
    headers = dict(exc.headers or {})
    return json_response(error_body(message, error_type), exc.status_code, headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    return json_response(error_body("Internal error", "INTERNAL_ERROR"), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
