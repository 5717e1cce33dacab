"""Lenient parsing of query parameters for pages: a bad value falls back to the default, never a 500."""

from __future__ import annotations

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
