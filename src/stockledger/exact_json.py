"""Reading JSON with exact decimals: no binary float, and no input that can make the parser crash."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

NESTING_TOO_DEEP = "nesting too deep"
# Python refuses to convert longer integers to int (the quadratic-time guard of CVE-2020-10735).
MAX_INTEGER_DIGITS = 4300


def _reject_constant(name: str) -> Any:
    # NaN, Infinity and -Infinity are not JSON; Python's parser would accept them.
    raise json.JSONDecodeError(f"{name} is not allowed", name, 0)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can hold, e.g. 1e99999999999999999999
        raise json.JSONDecodeError(f"the number {text[:40]} is out of range", text, 0) from None


def loads_exact(body: bytes | str) -> Any:
    """Parse JSON with numbers as Decimal; malformed, non-UTF-8 or absurdly nested input, an integer
    of more than 4,300 digits or an exponent out of range → JSONDecodeError (its `msg` says which)."""
    try:
        return json.loads(body, parse_float=_decimal, parse_constant=_reject_constant)
    except RecursionError:
        raise json.JSONDecodeError(NESTING_TOO_DEEP, "", 0) from None
    except UnicodeDecodeError:
        raise json.JSONDecodeError("body is not valid UTF-8", "", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # int() of an integer beyond the digit limit
        raise json.JSONDecodeError(f"an integer has more than {MAX_INTEGER_DIGITS} digits", "", 0) from None
