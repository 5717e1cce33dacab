"""Quantities: exact parsing of JSON numbers and strings, integer thousandths, the plain wire form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockledger.domain.quantity import QuantityError, format_units, parse_quantity, to_units


@pytest.mark.parametrize(
    ("raw", "units"),
    [
        (1, 1000),
        ("1", 1000),
        ("2.5", 2500),
        (Decimal("2.500"), 2500),
        ("0.001", 1),
        (-3, -3000),
        ("999999999999.999", 999_999_999_999_999),
        (Decimal("1.2340"), 1234),
        (2.5, 2500),
    ],
)
def test_accepted_quantities_become_exact_thousandths(raw: Any, units: int) -> None:
    assert to_units(parse_quantity(raw)) == units


@pytest.mark.parametrize(
    "raw",
    [
        True,
        None,
        "",
        " 1",
        "1e3",
        "1E3",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "1_000",
        "0x10",
        "abc",
        "1.2345",
        Decimal("1.2345"),
        Decimal("1E12"),
        "1000000000000",
        -(10**12),
        [1],
        {"a": 1},
        Decimal("NaN"),
    ],
)
def test_rejected_quantities(raw: Any) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(raw)


# Decimal's default context holds 28 digits: arithmetic on longer inputs raised InvalidOperation.
BEYOND_28_DIGITS = "12345678901234567890123456789012.0001"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (BEYOND_28_DIGITS, "must have at most 3 fraction digits"),
        (Decimal(BEYOND_28_DIGITS), "must have at most 3 fraction digits"),
        ("1" * 5000, "must be below 10^12 in magnitude"),
        ("0." + "0" * 5000 + "1", "must have at most 3 fraction digits"),
        (Decimal("1E+999999999999"), "must be below 10^12 in magnitude"),
        (Decimal("1E-999999999999"), "must have at most 3 fraction digits"),
        (Decimal("0.1000000000000000000000000000000000000001"), "must have at most 3 fraction digits"),
        (10**5000, "must be below 10^12 in magnitude"),
    ],
    ids=["string", "decimal", "5000-digit", "tiny", "huge-exponent", "tiny-exponent", "long-fraction", "int"],
)
def test_any_number_of_digits_is_a_quantity_error_not_a_decimal_error(raw: Any, message: str) -> None:
    with pytest.raises(QuantityError) as raised:
        parse_quantity(raw)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("raw", "units"),
    [
        ("1." + "0" * 5000, 1000),
        (Decimal("2.5" + "0" * 40), 2500),
        (Decimal("0E+999999"), 0),
        (Decimal("0E-999999"), 0),
        (Decimal("2.5E+1"), 25_000),
        ("000000000000000000000000000000000007.250", 7250),
    ],
)
def test_long_spellings_of_exact_quantities_are_accepted(raw: Any, units: int) -> None:
    assert to_units(parse_quantity(raw)) == units


@pytest.mark.parametrize(
    ("units", "text"),
    [
        (0, "0"),
        (42_000, "42"),
        (2_500, "2.5"),
        (-3_000, "-3"),
        (1, "0.001"),
        (-10, "-0.01"),
        (1_230, "1.23"),
        (10_000_000, "10000"),
    ],
)
def test_balances_are_formatted_in_plain_notation(units: int, text: str) -> None:
    assert format_units(units) == text


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
def test_formatting_round_trips_exactly(units: int) -> None:
    text = format_units(units)
    assert "e" not in text.lower() and not (("." in text) and text.endswith("0"))
    assert to_units(parse_quantity(text)) == units
