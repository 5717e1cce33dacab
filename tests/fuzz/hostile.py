"""Hostile values the fuzzer plants into generated requests: every class of input that once made a
route answer 500 — quantities beyond Decimal's 28 digits, JSON integers beyond the 4,300 digits int()
reads, exponents Decimal cannot hold, NUL characters in text and URLs, non-ASCII signature headers."""

from __future__ import annotations

import json
from typing import Any

MARK = "__hostile_value__"

# Raw JSON literals: a number or a string, written as they would arrive on the wire.
JSON_LITERALS = [
    b"12345678901234567890123456789012.0001",  # a number beyond Decimal's 28 digits
    b'"12345678901234567890123456789012.0001"',  # the same as a numeric string
    b"9" * 5000,  # an integer int() refuses to read
    b"-" + b"9" * 5000,
    b"1e99999999999999999999",  # an exponent Decimal cannot hold
    b'"Mug\\u0000 blue"',  # a NUL character in text
    b'"\\u0000"',
    b'"999999999999.999"',  # the largest change: enough of them overflow a balance without the limit
]
QUERY_VALUES = ["a\x00b", "\x00", "9" * 5000, "\u00b2", "12345678901234567890123456789012.0001"]
SIGNATURES = [b"\xe9" * 64, "é".encode() + b"\xff", b"\x80"]

Path = tuple[str | int, ...]


def positions(value: Any, at: Path = ()) -> list[Path]:
    """Every place of a JSON value a hostile literal can take: the value itself and each nested one."""
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += positions(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += positions(item, (*at, index))
    return found


def _replaced(value: Any, at: Path) -> Any:
    if not at:
        return MARK
    head, rest = at[0], at[1:]
    if isinstance(value, dict):
        return {key: _replaced(item, rest) if key == head else item for key, item in value.items()}
    return [_replaced(item, rest) if index == head else item for index, item in enumerate(value)]


def planted(body: Any, at: Path, literal: bytes) -> bytes:
    """The JSON of `body` with the value at `at` replaced by the raw `literal`."""
    text = json.dumps(_replaced(body, at)).encode()
    return text.replace(json.dumps(MARK).encode(), literal, 1)
