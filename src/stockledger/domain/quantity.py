"""Exact quantities: decimals with at most 3 fraction digits, kept as integers of thousandths."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

SCALE = 1000  # quantities have at most 3 fraction digits (goods sold by weight or volume)
FRACTION_DIGITS = 3
MAX_MAGNITUDE = Decimal(10) ** 12  # spec §1: magnitude below 10^12
# Numeric strings: ASCII digits only (Decimal would also take "1e3", "NaN", " 1" or other scripts' digits).
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class QuantityError(ValueError):
    """The value is not an acceptable quantity; str() is the violation message."""


def parse_quantity(value: Any) -> Decimal:
    """Parse a JSON number or numeric string into an exact Decimal, or raise QuantityError."""
    if isinstance(value, bool) or value is None:
        raise QuantityError("must be a number")
    if isinstance(value, float):
        # Only reached when a caller parsed JSON with floats; repr is the shortest exact spelling.
        value = repr(value)
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise QuantityError("must be a plain decimal number")
        try:
            number = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise QuantityError("must be a number") from None
    else:
        raise QuantityError("must be a number")
    if not number.is_finite():
        raise QuantityError("must be a finite number")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -FRACTION_DIGITS and number != number.quantize(Decimal(1).scaleb(-FRACTION_DIGITS)):
        raise QuantityError(f"must have at most {FRACTION_DIGITS} fraction digits")
    if abs(number) >= MAX_MAGNITUDE:
        raise QuantityError("must be below 10^12 in magnitude")
    return number


def to_units(quantity: Decimal) -> int:
    """Decimal → integer thousandths (exact; the value was validated by parse_quantity)."""
    units = quantity * SCALE
    assert units == units.to_integral_value(), quantity
    return int(units)


def from_units(units: int) -> Decimal:
    return Decimal(units) / SCALE


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
