"""Lenient parsing of query parameters for pages: a bad value falls back to the default, never a 500."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import Request

from stockledger.domain.ids import canonical_uuid


def int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        return default
    return max(low, min(value, high))


def uuid_param(request: Request, name: str) -> str | None:
    return canonical_uuid(request.query_params.get(name, "").strip())


def encode_cursor(cursor: tuple[Any, ...] | None) -> str:
    """A keyset position as an opaque URL-safe token ("" for the first page)."""
    if cursor is None:
        return ""
    return base64.urlsafe_b64encode(json.dumps(list(cursor)).encode()).decode().rstrip("=")


CURSOR_SHAPES = {"n": (str, str, str), "u": (str, str), "b": (int, str, str)}


def decode_cursor(token: str) -> tuple[Any, ...] | None:
    """The position of a token made by encode_cursor; anything else means the first page."""
    if not token or len(token) > 2048:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(value, list) or not value or value[0] not in CURSOR_SHAPES:
        return None
    shape = CURSOR_SHAPES[value[0]]
    rest = value[1:]
    if len(rest) != len(shape) or not all(type(v) is t for v, t in zip(rest, shape, strict=True)):
        return None
    return tuple(value)
