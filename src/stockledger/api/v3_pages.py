"""Pages of Inventory API v3 lists (v3 contract §2.4): `limit`, an opaque `cursor`, and the one
`Link: <absolute URL>; rel="next"` header that is sent only when a next page exists.

Real clients constrain the header: one aborts on any `Link` at all, one follows the first `<…>` it
finds whatever its `rel`, one splits it on `", "` and `"; "`. So a page carries exactly one link, of
exactly this form, and only when there is more to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from stockledger.api.responses import json_response
from stockledger.domain.errors import Violation, validation_error
from stockledger.plumbing import app_state

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_MAX_DIGITS = 18  # digits of a query integer that are read (int() refuses more than 4,300)


def page_limit(raw: str | None) -> int:
    """`limit`: absent → 100; above 1,000 → 1,000 (clients only echo the server's own links);
    zero, negative or not an integer → 400 naming `limit`."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= _MAX_DIGITS else None
    if raw.isascii() and raw.isdigit() and len(raw) > _MAX_DIGITS:
        value = MAX_LIMIT
    if value is None or value < 1:
        raise validation_error([Violation("limit", f"must be an integer from 1 to {MAX_LIMIT}")])
    return min(value, MAX_LIMIT)


def public_base(request: Request) -> str:
    """The address clients reach the service at: STOCKLEDGER_PUBLIC_URL, else what the request shows
    (its scheme and `Host` header). A configured base may hold a path prefix (a proxy that strips it)."""
    configured = app_state(request).settings.public_url
    return configured or f"{request.url.scheme}://{request.url.netloc}"


def public_url(request: Request, path: str, query: Mapping[str, str] | None = None) -> str:
    """An absolute URL of `path` (which starts with `/`) under the public base."""
    url = public_base(request) + path
    return f"{url}?{urlencode(dict(query))}" if query else url


def next_link(request: Request, cursor: str, limit: int) -> str:
    """The `Link` header value of a page followed by the page at `cursor`: the same path and query
    with `cursor` and `limit` set (other query parameters are kept)."""
    query = {k: v for k, v in request.query_params.items() if k not in ("cursor", "limit")}
    query.update(cursor=cursor, limit=str(limit))
    return f'<{public_url(request, request.url.path, query)}>; rel="next"'


def page_response(request: Request, rows: list[Any], next_cursor: str | None, limit: int) -> Response:
    """A JSON array page; `Link` only when `next_cursor` says there is more."""
    headers = {"Link": next_link(request, next_cursor, limit)} if next_cursor is not None else None
    return json_response(rows, headers=headers)
