"""Pure low-stock rules and the ETag helpers: crossing, effective level, wire numbers, If-None-Match."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from stockledger.api.low_stock import none_match, strong_etag
from stockledger.domain.low_stock_rules import (
    LowStockConfig,
    crossed_low,
    default_level_units,
    effective_level,
    level_to_wire,
    level_units,
)


@pytest.mark.parametrize(
    ("before", "after", "level", "alert", "crossed"),
    [
        (6000, 5000, 5000, True, True),  # above → at the level
        (6000, 1000, 5000, True, True),  # above → below
        (5001, 5000, 5000, True, True),  # by one thousandth
        (5000, 4000, 5000, True, False),  # already at the level: staying low is no new crossing
        (4000, 3000, 5000, True, False),  # staying below
        (3000, 6000, 5000, True, False),  # going up
        (6000, 5001, 5000, True, False),  # still above
        (6000, 1000, 5000, False, False),  # alert disabled
        (0, -2000, 0, True, False),  # level 0, already at it: going negative is no new crossing
        (1000, 0, 0, True, True),  # level 0: selling out crosses
    ],
)
def test_crossed_low(before: int, after: int, level: int, alert: bool, crossed: bool) -> None:
    assert crossed_low(before, after, level, alert) is crossed


def test_going_above_then_below_again_crosses_again() -> None:
    path = [10_000, 4000, 3000, 8000, 5000]
    crossings = [crossed_low(a, b, 5000, True) for a, b in itertools.pairwise(path)]
    assert crossings == [True, False, False, True]


def test_effective_level_uses_the_server_default_only_when_unset() -> None:
    default = default_level_units(5)
    assert default == 5000
    assert effective_level(None, default) == 5000
    assert effective_level(0, default) == 0
    assert effective_level(2500, default) == 2500


def test_only_null_level_with_alert_off_is_the_default_configuration() -> None:
    assert LowStockConfig("p", "v", None, False).is_default
    assert not LowStockConfig("p", "v", 0, False).is_default
    assert not LowStockConfig("p", "v", None, True).is_default


def test_levels_are_exact_thousandths_and_never_negative() -> None:
    assert level_units(None) is None
    assert level_units(Decimal("2.5")) == 2500
    assert level_units(Decimal("0.001")) == 1
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        level_units(Decimal("-0.001"))


@pytest.mark.parametrize("text", ["0", "5", "2.5", "0.001", "0.125", "123456.789", "999999999999.999"])
def test_wire_level_is_a_json_number_printing_back_the_same_decimal(text: str) -> None:
    units = level_units(Decimal(text))
    assert units is not None
    wire = level_to_wire(units)
    assert isinstance(wire, float)
    assert Decimal(repr(wire)) == Decimal(text)
    assert level_to_wire(None) is None


def test_strong_etag_is_a_quoted_digest_of_the_bytes() -> None:
    tag = strong_etag(b'{"a":1}')
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert tag == strong_etag(b'{"a":1}')
    assert tag != strong_etag(b'{"a":2}')


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),  # If-None-Match compares weakly
        ('"x", "abc"', True),
        ('"x",W/"abc" ', True),
        ("*", True),
        (" * ", True),
        ('"abcd"', False),
        ('"x", "y"', False),
        ("abc", False),  # unquoted is not an entity tag
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert none_match(header, '"abc"') is matches
