"""Prices typed in a form, read exactly in the currency's ISO 4217 minor units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockledger.domain.money import MoneyError, currency_digits, format_price, parse_price
from stockledger.domain.products import MAX_AMOUNT


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("19.99", "SEK", 1999),
        ("19,99", "EUR", 1999),
        ("20", "SEK", 2000),
        (".5", "GBP", 50),
        ("19.990", "SEK", 1999),
        (" 1 000 ", "SEK", 100000),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("0", "SEK", 0),
        ("90071992547409.91", "SEK", MAX_AMOUNT),
    ],
)
def test_a_typed_price_is_read_as_exact_minor_units(text: str, currency: str, amount: int) -> None:
    assert parse_price(text, currency) == amount


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("12.345", "SEK", "at most 2 decimals in SEK"),
        ("1.5", "JPY", "JPY has no minor unit"),
        ("-1", "SEK", "must be an amount such as 19.99"),
        ("1e3", "SEK", "must be an amount such as 19.99"),
        ("1,000.50", "SEK", "must be an amount such as 19.99"),
        ("", "SEK", "must be an amount"),
        (".", "SEK", "must be an amount"),
        ("90071992547409.92", "SEK", "must be at most 90071992547409.91"),
        ("9" * 40, "SEK", "must be at most"),
    ],
)
def test_what_is_not_a_price_in_the_currency_is_refused_with_a_reason(
    text: str, currency: str, message: str
) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_price(text, currency)


def test_currency_digits_follow_iso_4217() -> None:
    assert [currency_digits(c) for c in ("SEK", "jpy", "KWD", "XAU", "ZZZ")] == [2, 0, 3, 0, 2]


@given(st.integers(min_value=0, max_value=MAX_AMOUNT), st.sampled_from(["SEK", "JPY", "KWD", "CLF"]))
def test_a_shown_price_reads_back_as_the_same_amount(amount: int, currency: str) -> None:
    assert parse_price(format_price(amount, currency), currency) == amount
