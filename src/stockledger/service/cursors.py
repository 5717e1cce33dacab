"""Opaque paging cursors: base64url JSON of the keyset position plus a check of the query's filters."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import orjson

from stockledger.domain.errors import Violation, validation_error


def filters_check(*parts: object) -> str:
    """A short digest of the filters a cursor belongs to: a cursor is refused under other filters."""
    return hashlib.sha256(orjson.dumps([str(p) for p in parts])).hexdigest()[:16]


def encode(position: list[Any], check: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"p": position, "f": check})).decode().rstrip("=")


def decode(cursor: str, check: str, *, size: int) -> list[Any]:
    """The keyset position of `cursor`; malformed, or made for other filters → 400 naming `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise validation_error([Violation("cursor", "is not a valid cursor")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("p"), list) or len(data["p"]) != size:
        raise validation_error([Violation("cursor", "is not a valid cursor")])
    if data.get("f") != check:
        raise validation_error([Violation("cursor", "belongs to a query with other parameters")])
    return list(data["p"])
