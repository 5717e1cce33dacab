"""Fast JSON responses (orjson), answers sent from a spool, and the Zettle error body (spec §3)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

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


SPOOL_SEND_CHUNK_BYTES = 64 * 1024  # what uvicorn buffers per connection before it pauses a sender


class SpooledResponse(StreamingResponse):
    """A finished body kept in a spool (memory, or a temporary file past its size), sent in chunks
    with its Content-Length; the spool is closed (its file deleted) once sent or abandoned."""

    def __init__(self, spool: tempfile.SpooledTemporaryFile[bytes], media_type: str) -> None:
        size_bytes = spool.tell()
        spool.seek(0)
        super().__init__(_chunks(spool), media_type=media_type, headers={"content-length": str(size_bytes)})
        self.spool = spool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.spool.close()


async def _chunks(spool: tempfile.SpooledTemporaryFile[bytes]) -> AsyncIterator[bytes]:
    # A read copies from the page cache (the file was just written): cheaper than a thread hand-off.
    while chunk := spool.read(SPOOL_SEND_CHUNK_BYTES):
        yield chunk
