"""Exact quantities: decimals with at most 3 fraction digits, kept as integers of thousandths."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

SCALE = 1000  # quantities have at most 3 fraction digits (goods sold by weight or volume)
FRACTION_DIGITS = 3
INTEGER_DIGITS = 12  # spec §1: magnitude below 10^12
# Every balance (and so every ledger sum of a location) stays within ±10^15: held as thousandths, that
# is ±10^18 in a signed 64-bit integer (BIGINT, 2^63 ≈ 9.2·10^18). The headroom lets the database add
# one request's net change (refused beyond ±2·10^18, which could only end out of range) to a balance
# without overflowing before the result is checked.
MAX_BALANCE_UNITS = 10**18  # 10^15 units
MAX_NET_CHANGE_UNITS = 2 * MAX_BALANCE_UNITS
# Numeric strings: ASCII digits only (Decimal would also take "1e3", "NaN", " 1" or other scripts' digits).
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class QuantityError(ValueError):
    """The value is not an acceptable quantity; str() is the violation message."""


def parse_quantity(value: Any) -> Decimal:
    """Parse a JSON number or numeric string into an exact Decimal, or raise QuantityError.

    Any spelling is accepted whose value is exact with at most 3 fraction digits and below 10^12
    ("1.5000", 2.5E+1); the check reads the digits themselves, so no length of input reaches Decimal
    arithmetic (whose 28-digit context would raise or round).
    """
    if isinstance(value, bool) or value is None:
        raise QuantityError("must be a number")
    if isinstance(value, float):
        # Only reached when a caller parsed JSON with floats; repr is the shortest exact spelling.
        value = repr(value)
    if isinstance(value, int):
        if abs(value) >= 10**INTEGER_DIGITS:
            raise QuantityError("must be below 10^12 in magnitude")
        return Decimal(value)
    if isinstance(value, str):
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise QuantityError("must be a plain decimal number")
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise QuantityError("must be a number")
    if not value.is_finite():
        raise QuantityError("must be a finite number")
    sign, digit_tuple, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if exponent >= -FRACTION_DIGITS and len(digit_tuple) + exponent <= INTEGER_DIGITS:
        return value  # the usual spelling: no digit beyond the limits (only zero has a leading zero)
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return Decimal(0)
    if exponent < 0:  # trailing zeros of the fraction carry no value: 1.5000 is 1.5
        significant = digits.rstrip("0")
        dropped = min(len(digits) - len(significant), -exponent)
        digits, exponent = digits[: len(digits) - dropped], exponent + dropped
    if exponent < -FRACTION_DIGITS:
        raise QuantityError(f"must have at most {FRACTION_DIGITS} fraction digits")
    if len(digits) + exponent > INTEGER_DIGITS:
        raise QuantityError("must be below 10^12 in magnitude")
    return Decimal((sign, tuple(map(int, digits)), exponent))


def to_units(quantity: Decimal) -> int:
    """Decimal → integer thousandths (exact; the value was validated by parse_quantity)."""
    units = quantity * SCALE
    assert units == units.to_integral_value(), quantity
    return int(units)


def format_units(units: int) -> str:
    """Integer thousandths → the wire form: plain notation, no exponent, no trailing zeros ("2.5", "-3")."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), SCALE)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:03d}".rstrip("0")


def units_to_float(units: int) -> float:
    """For the few Zettle fields that are JSON numbers (customLowStockLevel)."""
    return units / SCALE
