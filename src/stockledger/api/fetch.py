"""Answering location fetches: `asOf`, `limit`/`cursor` pages, and the whole list spooled (spec §8)."""

from __future__ import annotations

import tempfile
from contextlib import aclosing
from datetime import datetime
from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from stockledger.api import serialize
from stockledger.api.responses import JSONResponse, SpooledResponse, json_response
from stockledger.domain.errors import Violation, validation_error
from stockledger.plumbing import Database, app_state
from stockledger.service import fetch
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, Since


def _query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


# Declared on the GET fetch routes (api/inventory.py) so /openapi.json documents the §8 parameters.
OPENAPI_EXTRA: dict[str, Any] = {
    "parameters": [
        _query_parameter(
            "asOf", "Extension: balances at this ISO-8601 instant, from the ledger", {"type": "string"}
        ),
        _query_parameter(
            "limit",
            f"Extension: page size (1 to {fetch.MAX_PAGE_LIMIT}); without it the whole list is streamed",
            {"type": "integer", "minimum": 1, "maximum": fetch.MAX_PAGE_LIMIT},
        ),
        _query_parameter("cursor", "Extension: `nextCursor` of the previous page", {"type": "string"}),
    ]
}


def parse_instant(raw: str, name: str) -> int:
    """An ISO-8601 date-time with a time zone → epoch milliseconds, or 400 naming the parameter."""
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise validation_error([Violation(name, "must be an ISO-8601 date-time")]) from None
    if moment.tzinfo is None:
        raise validation_error([Violation(name, "must include a time zone")])
    return int(moment.timestamp() * 1000)


MAX_DIGITS = 18  # the digits of a query integer that are read (10^18 < 2^63)


def parse_limit(raw: str | None, name: str = "limit") -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):  # str.isdigit() also takes "²", which int() refuses
        raise validation_error([Violation(name, "must be a positive integer")])
    # int() refuses more than 4,300 digits; a number this long is beyond every limit's range anyway
    return int(raw) if len(raw) <= MAX_DIGITS else 10**MAX_DIGITS


async def location_inventory_response(
    request: Request, actor: Actor, ref: LocationRef, since: Since | None
) -> Response:
    """The location-inventory answer of the GET fetch endpoints, with the §8 query parameters."""
    query = request.query_params
    raw_as_of = query.get("asOf")
    as_of_ms = parse_instant(raw_as_of, "asOf") if raw_as_of else None
    limit = parse_limit(query.get("limit"))
    cursor = query.get("cursor") or None
    if cursor is not None and limit is None:
        raise validation_error([Violation("cursor", "needs a limit")])
    db = app_state(request).db
    prepared = await fetch.prepare(db, actor, ref, since=since, as_of_ms=as_of_ms)
    if limit is not None:
        inventory, next_cursor = await fetch.page(db, prepared, limit=limit, cursor=cursor)
        body = serialize.location_inventory(inventory)
        body["nextCursor"] = next_cursor
        return json_response(body)
    spool = await _spooled_body(db, prepared)
    if spool.tell() <= SPOOL_IN_MEMORY_BYTES:  # still in memory: one plain answer
        with spool:
            spool.seek(0)
            return Response(spool.read(), media_type=JSONResponse.media_type)
    return SpooledResponse(spool, media_type=JSONResponse.media_type)


# The whole list is read inside one read transaction into a spool and sent from there once the
# transaction has ended: the database connection is held for as long as the database takes to
# read, never for as long as a client takes to take the answer (a client that reads nothing would
# otherwise keep a pooled connection for ever). Past this size the spool is a temporary file, so
# memory stays flat however many variants there are.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024


async def _spooled_body(db: Database, prepared: fetch.Prepared) -> tempfile.SpooledTemporaryFile[bytes]:
    """Byte for byte what orjson.dumps(serialize.location_inventory(...)) gives for the whole list,
    written chunk by chunk into a spool, positioned at its end."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)
    try:
        # Writes go to memory or to the page cache: far cheaper than a hand-off to a thread each.
        spool.write(
            b'{"locationUuid":'
            + orjson.dumps(prepared.location.uuid)
            + b',"trackedProducts":'
            + orjson.dumps(prepared.tracked)
            + b',"variants":['
        )
        first = True
        async with aclosing(fetch.stream(db, prepared)) as chunks:
            async for chunk in chunks:
                if not chunk:
                    continue
                items = orjson.dumps([serialize.balance_record(r) for r in chunk])[1:-1]
                spool.write(items if first else b"," + items)
                first = False
        spool.write(b'],"latest":' + orjson.dumps(prepared.latest) + b"}")
    except BaseException:
        spool.close()
        raise
    return spool
