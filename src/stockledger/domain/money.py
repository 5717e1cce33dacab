"""Prices as people write them ("19.99") and as the library stores them (1999 minor units), exactly:
the number of fraction digits is the currency's ISO 4217 minor unit. No floats, no I/O."""

from __future__ import annotations

import re
from decimal import Decimal

from iso4217 import Currency

from stockledger.domain.products import MAX_AMOUNT

# Currencies without a minor unit in ISO 4217 (gold, "no currency") are counted in whole units; a
# code the table does not hold (pycountry accepts a few more) gets the common two digits.
FALLBACK_DIGITS = 2
# Digits, then at most one decimal separator (a point or, as written in much of Europe, a comma)
# and digits. No thousands separators: "1,000" would be ambiguous.
_AMOUNT = re.compile(r"^([0-9]*)(?:[.,]([0-9]*))?$")


class MoneyError(ValueError):
    """The text is not a price in this currency; the message says why, for a form field."""


def currency_digits(currency: str) -> int:
    """The fraction digits of the currency's minor unit: SEK 2, JPY 0, KWD 3."""
    try:
        exponent: int | None = Currency(currency.upper()).exponent
    except ValueError:
        return FALLBACK_DIGITS
    return 0 if exponent is None else int(exponent)


def parse_price(text: str, currency: str) -> int:
    """Minor units of a price typed in a form: "19.99" SEK → 1999, "19,9" → 1990, "20" → 2000.
    Refuses a sign, more fraction digits than the currency has, and amounts beyond the library's."""
    digits = currency_digits(currency)
    plain = text.strip().replace(" ", "").replace("\u00a0", "")
    found = _AMOUNT.match(plain)
    if found is None or not (found.group(1) or found.group(2)):
        raise MoneyError(
            "must be an amount such as " + format_price(1999 * 10 ** max(digits - 2, 0), currency)
        )
    whole, fraction = found.group(1) or "0", found.group(2) or ""
    if not fraction[digits:].strip("0"):  # "19.990" is 19.99 exactly
        fraction = fraction[:digits]
    if len(fraction) > digits:
        if digits == 0:
            raise MoneyError(f"must be a whole number: {currency} has no minor unit")
        raise MoneyError(f"must have at most {digits} decimals in {currency}")
    if len(whole) > 16:  # longer is beyond MAX_AMOUNT whatever the currency
        raise MoneyError(f"must be at most {format_price(MAX_AMOUNT, currency)}")
    amount = int(whole + fraction.ljust(digits, "0"))  # "19" + "99": the minor units, exactly
    if amount > MAX_AMOUNT:
        raise MoneyError(f"must be at most {format_price(MAX_AMOUNT, currency)}")
    return amount


def format_price(amount: int, currency: str) -> str:
    """Minor units as a form shows them: 1999 SEK → "19.99", 500 JPY → "500"."""
    digits = currency_digits(currency)
    return format(Decimal(amount).scaleb(-digits), "f")
