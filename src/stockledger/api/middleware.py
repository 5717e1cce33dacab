"""One pure-ASGI middleware for every request: trailing slashes, body limit, request id, logs, metrics."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qsl

import uuid_utils
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockledger.api.responses import error_body, error_response, json_response
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.text import NUL, NUL_REFUSED
from stockledger.logging_setup import request_id_var
from stockledger.metrics import LATENCY, REQUESTS

access_log = logging.getLogger("stockledger.access")
error_log = logging.getLogger("stockledger.api")
REQUEST_ID_HEADER = b"x-request-id"


class Gateway:
    """Normalises the path (answers `…/` directly, no redirect), enforces the body limit, and
    records every request: a JSON access-log line with its request id and the Prometheus metrics."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = dict(scope)
            scope["path"] = path.rstrip("/") or "/"
            scope["raw_path"] = scope["path"].encode()
        request_id = _incoming_request_id(scope) or uuid_utils.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await self._too_large(scope, receive, send_with_id)
            elif _nul_in_url(scope):
                await _nul_refused(scope, receive, send_with_id)
            else:
                await self.app(scope, self._limited(receive), send_with_id)
        except Exception:
            # Answered here, not by the outermost error middleware, so the 500 carries the request id
            # and its log line names the request; the body never holds the traceback.
            error_log.exception("unhandled error", extra={"path": scope["path"]})
            if started_response:
                raise
            await json_response(error_body("Internal error", "INTERNAL_ERROR"), 500)(
                scope, receive, send_with_id
            )
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)

    def _limited(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body_bytes

        async def wrapped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"Request body exceeds {limit} bytes")
            return message

        return wrapped

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = error_body(f"Request body exceeds {self.max_body_bytes} bytes", "PAYLOAD_TOO_LARGE")
        response = json_response(body, 413, {"Connection": "close"})
        await response(scope, receive, send)


def _nul_in_url(scope: Scope) -> bool:
    """A NUL character (U+0000) in the path or a query parameter: no route or page has a use for
    one, and PostgreSQL cannot compare text holding one (domain/text.py)."""
    query: bytes = scope.get("query_string", b"")
    return NUL in scope["path"] or b"%00" in query


async def _nul_refused(scope: Scope, receive: Receive, send: Send) -> None:
    """400 naming the query parameter that holds the NUL (or the path)."""
    query = scope.get("query_string", b"").decode("latin-1")
    names = [name for name, value in parse_qsl(query, keep_blank_values=True) if NUL in name + value]
    where = names[0] if names and NUL not in scope["path"] else "path"
    await error_response(validation_error([Violation(where, NUL_REFUSED)]))(scope, receive, send)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            text: str = value.decode("latin-1")
            # Only a short token of safe characters is echoed back (no header injection).
            if 0 < len(text) <= 128 and all(c.isalnum() or c in "-_." for c in text):
                return text
            return None
    return None


def _content_length(scope: Scope) -> int | None:
    headers: Any = scope.get("headers", [])
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
