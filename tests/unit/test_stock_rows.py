"""The v3 stock row's rules (domain/stock_rows.py): the level shown, `updated`, the checksum, and the
JSON numbers of the API (api/v3_stock.py)."""

from __future__ import annotations

import orjson
import pytest

from stockledger.api.v3_stock import json_number, stock_row
from stockledger.domain.stock_rows import StockRecord, checksum, shown_level, shown_setting

INV = "6e5e8d52-5ce0-11ec-bf63-0242ac130002"
PRODUCT = "b9675342-5ce0-11ec-bf63-0242ac130002"
VARIANT = "d3b93e04-5ce0-11ec-bf63-0242ac130002"
DEFAULT = 5000  # thousandths


def test_checksum_is_the_crc32_of_the_row_as_decimal_digits_and_stays_so() -> None:
    # Pinned: clients may store checksums, so the same row must give the same digits in every version.
    assert checksum(INV, PRODUCT, VARIANT, 42_000, 7_000, True) == "3297590488"
    assert checksum(INV, PRODUCT, VARIANT, 2_500, None, False) == checksum(
        INV, PRODUCT, VARIANT, 2_500, None, False
    )


@pytest.mark.parametrize(
    "other",
    [
        (INV, PRODUCT, VARIANT, 42_001, 7_000, True),
        (INV, PRODUCT, VARIANT, 42_000, 7_500, True),
        (INV, PRODUCT, VARIANT, 42_000, None, True),
        (INV, PRODUCT, VARIANT, 42_000, 7_000, False),
        (PRODUCT, INV, VARIANT, 42_000, 7_000, True),
    ],
)
def test_checksum_changes_with_what_the_row_shows(other: tuple) -> None:
    assert checksum(*other) != checksum(INV, PRODUCT, VARIANT, 42_000, 7_000, True)


def test_shown_level_is_the_own_level_else_the_default_for_an_alert_else_none() -> None:
    assert shown_level(3_000, True, DEFAULT) == 3_000
    assert shown_level(0, False, DEFAULT) == 0
    assert shown_level(None, True, DEFAULT) == DEFAULT
    assert shown_level(None, False, DEFAULT) is None


def test_shown_setting_takes_the_later_change() -> None:
    assert shown_setting(200, None, None, None, DEFAULT) == (None, False, 200)  # no setting
    assert shown_setting(200, 2_000, False, 300, DEFAULT) == (2_000, False, 300)  # set later
    assert shown_setting(400, None, True, 300, DEFAULT) == (DEFAULT, True, 400)  # moved later


@pytest.mark.parametrize(
    ("units", "json"),
    [
        (42_000, b"42"),
        (0, b"0"),
        (-5_000, b"-5"),
        (2_500, b"2.5"),
        (-125, b"-0.125"),
        (10**15, b"1000000000000"),
    ],
)
def test_quantities_are_json_numbers_integer_when_whole(units: int, json: bytes) -> None:
    assert orjson.dumps(json_number(units)) == json


def test_row_object_and_its_updated_time() -> None:
    record: StockRecord = (PRODUCT, VARIANT, 1_500, 1_609_459_200_007, None, True, 1_609_459_199_000)
    row = stock_row("org", INV, record, DEFAULT)
    assert orjson.loads(orjson.dumps(row)) == {
        "organizationUuid": "org",
        "inventoryUuid": INV,
        "productUuid": PRODUCT,
        "variantUuid": VARIANT,
        "balance": 1.5,
        "lowStockLevel": 5,
        "lowStockAlert": True,
        "updated": "2021-01-01T00:00:00.007Z",
        "checksum": checksum(INV, PRODUCT, VARIANT, 1_500, DEFAULT, True),
    }
