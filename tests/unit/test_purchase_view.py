"""The Purchase API v2 object and its paging hashes, checked against the numbers of Zettle's own
documentation examples (purchase.adoc) and the rules of product-library-api §6."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from stockledger.domain.errors import ServiceError
from stockledger.domain.purchase_fields import instant_ms, recorded_fields, uuid_b64, uuid_from_b64
from stockledger.domain.purchase_paging import parse_hash, parse_query, purchase_hash, years_before
from stockledger.domain.purchase_view import OrgFacts, StoredPurchase, purchase_v2, rate_key
from stockledger.exact_json import loads_exact

ORG = OrgFacts(country="SE", currency="SEK", organization_id=1234, taxation_mode="INCLUSIVE")
UUID = "39d8b706-358b-11eb-a896-5af628c16a84"
NOW_MS = 1_764_979_200_000  # 2025-12-06T00:00:00Z


def view(
    document: dict[str, Any] | None, *, result: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    stored = StoredPurchase(
        UUID,
        document,
        result or {"applied": [], "skipped": []},
        kw.pop("timestamp_ms", 1_607_015_780_028),
        kw.pop("purchase_number", 7),
        kw.pop("refunds", None),
        kw.pop("refunded_by", ()),
    )
    return purchase_v2(stored, ORG)


def test_the_hash_reproduces_zettles_documented_hashes() -> None:
    assert uuid_b64(UUID) == "Odi3BjWLEeuollr2KMFqhA"
    assert purchase_hash(1_607_015_780_028, UUID) == "1607015780028Odi3BjWLEeuollr2KMFqhA"
    assert parse_hash("1607014824879Bm5SpjWJEeuollr2KMFqhA") == (
        1_607_014_824_879,
        "066e52a6-3589-11eb-a896-5af628c16a84",
    )


@pytest.mark.parametrize(
    "text", ["", "abc", "1607015780028", "Odi3BjWLEeuollr2KMFqhA", "12Odi3BjWLEeuollr2KMFqh!"]
)
def test_a_malformed_hash_is_none(text: str) -> None:
    assert parse_hash(text) is None


def test_a_base64_uuid_with_stray_bits_is_not_a_uuid() -> None:
    assert uuid_from_b64("Odi3BjWLEeuollr2KMFqhA") == UUID
    assert uuid_from_b64("Odi3BjWLEeuollr2KMFqhB") is None  # the last character's low bits are set


def test_row_amounts_follow_zettles_discount_example() -> None:
    """purchase.adoc: Foo 2 × 20.00 less 5.00 at 25 %, Bar 10 × 10.00 less 10 % at 12 %, then 20 %
    off the purchase: rows taxable 22.40 and 64.29, VAT groups 28.00 and 72.00."""
    document = loads_exact(
        """{"amount": 10000, "vatAmount": 1331, "products": [
        {"quantity": "2", "unitPrice": 2000, "vatPercentage": 25, "discountValue": 500,
         "discount": {"quantity": 1, "amount": 500}, "productUuid": "39cde734-e893-11e6-b8f1-2d3db21fba6a",
         "variantUuid": "302b4d5c-e893-11e6-b8f1-2d3db21fba6a", "name": "Foo"},
        {"quantity": "10", "unitPrice": 1000, "vatPercentage": 12, "discountValue": 1000,
         "discount": {"quantity": 1, "percentage": 10}, "name": "Bar"}],
        "discounts": [{"name": "20% off", "percentage": 20, "quantity": 1}]}"""
    )
    out = view(document)
    assert [line["rowTaxableAmount"] for line in out["products"]] == [2240, 6429]
    assert out["groupedVatAmounts"] == {"25.0": 2800, "12.0": 7200}
    assert (out["amount"], out["vatAmount"]) == (10000, 1331)
    assert out["products"][0]["discount"] == {"quantity": 1, "amount": 500}
    assert out["products"][1]["productUuid"] is None and out["products"][1]["type"] == "CUSTOM_AMOUNT"


def test_an_amount_off_the_purchase_is_shared_in_proportion_to_the_rows() -> None:
    document = {
        "products": [
            {"quantity": "1", "unitPrice": 4000, "vatPercentage": Decimal(0)},
            {"quantity": "1", "unitPrice": 6000, "vatPercentage": Decimal(0)},
        ],
        "discounts": [{"amount": 1000, "quantity": 1}],
    }
    assert [line["rowTaxableAmount"] for line in view(document)["products"]] == [3600, 5400]


def test_taxable_amounts_of_the_documented_sale_without_discounts() -> None:
    document = {
        "products": [
            {"quantity": "1", "unitPrice": 2000, "vatPercentage": 12},
            {"quantity": "1", "unitPrice": 3000, "vatPercentage": 12},
        ]
    }
    out = view(document)
    assert [line["rowTaxableAmount"] for line in out["products"]] == [1786, 2679]
    assert out["groupedVatAmounts"] == {"12.0": 5000}


def test_exclusive_prices_and_tax_exempt_rows_are_taxable_as_they_are() -> None:
    document = {
        "taxationMode": "EXCLUSIVE",
        "products": [{"quantity": "3", "unitPrice": 1000, "vatPercentage": 8}],
    }
    assert view(document)["products"][0]["rowTaxableAmount"] == 3000
    exempt = {"products": [{"quantity": "1", "unitPrice": 1000, "vatPercentage": 25, "taxExempt": True}]}
    assert view(exempt)["products"][0]["rowTaxableAmount"] == 1000


def test_what_the_document_states_wins_over_what_is_derived() -> None:
    document = {
        "products": [{"quantity": "1", "unitPrice": 2000, "vatPercentage": 12, "rowTaxableAmount": 1700}],
        "groupedVatAmounts": {"12.0": Decimal("1999.0")},
        "refunded": True,
    }
    out = view(document)
    assert out["products"][0]["rowTaxableAmount"] == 1700
    assert out["groupedVatAmounts"] == {"12.0": 1999}
    assert out["refunded"] is True


def test_a_refund_has_negative_quantities_whichever_way_the_document_says_it() -> None:
    said_twice = view({"refund": True, "products": [{"quantity": "-1", "unitPrice": 1800}]})
    said_once = view({"refund": True, "products": [{"quantity": "1", "unitPrice": 1800}]})
    by_sign = view({"products": [{"quantity": "-2", "unitPrice": 100}]})
    assert said_twice["products"][0]["quantity"] == said_once["products"][0]["quantity"] == "-1"
    assert said_once["products"][0]["rowTaxableAmount"] == -1800
    assert said_twice["refund"] and said_once["refund"] and by_sign["refund"]
    assert view({"products": [{"quantity": "2"}]})["refund"] is False


def test_a_minimal_document_gets_every_documented_key_with_its_default() -> None:
    out = view(
        {"purchaseUuid": UUID, "products": [{"productUuid": UUID, "variantUuid": UUID, "quantity": 2}]}
    )
    assert out["amount"] == out["vatAmount"] == 0
    assert (out["country"], out["currency"], out["organizationId"]) == ("SE", "SEK", 1234)
    assert out["purchaseNumber"] == out["globalPurchaseNumber"] == 7
    assert out["timestamp"] == out["created"] == "2020-12-03T17:16:20.028+0000"
    assert out["source"] == "POS"
    for key in ("gpsCoordinates", "serviceCharge", "references", "cashRegister", "userDisplayName", "userId"):
        assert out[key] is None, key
    assert out["discounts"] == out["payments"] == out["refundedByPurchaseUUIDs1"] == []
    assert (out["refundsPurchaseUUID"], out["refundsPurchaseUUID1"]) == (None, None)
    line = out["products"][0]
    assert line["quantity"] == "2" and line["name"] == line["variantName"] == ""
    assert line["unitPrice"] == 0 and line["rowTaxableAmount"] == 0
    assert line["libraryProduct"] is True and line["type"] == "PRODUCT" and line["taxExempt"] is False
    for key in ("discount", "details", "costPrice", "vatPercentage", "sku", "grossValue"):
        assert line[key] is None, key
    assert line["id"] == "0"


def test_numbers_where_strings_belong_become_strings_and_money_integers() -> None:
    document = {
        "amount": Decimal("5400.0"),
        "payments": [{"amount": Decimal("5400.0"), "type": "IZETTLE_CASH"}],
        "products": [{"quantity": 1, "barcode": 7310865004703, "id": 3, "unitPrice": Decimal("1.0")}],
    }
    out = view(document)
    assert out["amount"] == 5400 and isinstance(out["amount"], int)
    assert out["payments"] == [{"amount": 5400, "type": "IZETTLE_CASH"}]
    assert out["products"][0]["barcode"] == "7310865004703" and out["products"][0]["id"] == "3"
    assert out["products"][0]["unitPrice"] == 1


def test_the_refund_links_are_given_in_both_forms() -> None:
    refund_uuid = "1ca5c42a-8ec4-11e6-aaff-4186f29705b6"
    original = view({"products": []}, refunded_by=(refund_uuid,))
    assert original["refunded"] is True
    assert original["refundedByPurchaseUUIDs1"] == [refund_uuid]
    assert original["refundedByPurchaseUUIDs"] == ["HKXEKo7EEeaq_0GG8pcFtg"]
    refund = view({"refund": True, "products": []}, refunds=UUID)
    assert (refund["refundsPurchaseUUID1"], refund["refundsPurchaseUUID"]) == (UUID, "Odi3BjWLEeuollr2KMFqhA")


def test_a_purchase_without_its_document_shows_the_lines_that_moved_stock() -> None:
    result = {
        "applied": [
            {
                "index": 1,
                "productUuid": UUID,
                "variantUuid": UUID,
                "fromLocationUuid": "a" * 8 + "-0000-1000-8000-" + "0" * 12,
                "toLocationUuid": "b" * 8 + "-0000-1000-8000-" + "0" * 12,
                "change": "2.5",
            }
        ],
        "skipped": [{"index": 0, "reason": "NO_PRODUCT"}],
    }
    out = view(None, result=result)
    [line] = out["products"]
    assert (line["id"], line["quantity"], line["productUuid"]) == ("1", "2.5", UUID)
    assert line["fromLocationUuid"].startswith("aaaaaaaa") and line["toLocationUuid"].startswith("bbbbbbbb")


def test_vat_group_keys_are_written_as_zettle_writes_them() -> None:
    assert [rate_key(Decimal(v)) for v in ("25", "12.0", "12.5", "6.25", "0")] == [
        "25.0",
        "12.0",
        "12.5",
        "6.25",
        "0.0",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", 1_714_521_600_000),
        ("2024-05-01T10:00", 1_714_557_600_000),
        ("2024-05-01T10:00:00.123456", 1_714_557_600_123),
        ("2024-05-01T10:00:00+00:00", 1_714_557_600_000),
        ("2024-05-01T10:00:00Z", 1_714_557_600_000),
        ("2024-05-01T12:00:00+0200", 1_714_557_600_000),
        ("2024-05-01T12:00:00 02:00", 1_714_557_600_000),  # a `+` a query string turned into a space
        ("2024-05-01T10:00:00.123+0000", 1_714_557_600_123),
    ],
)
def test_instants_in_every_form_clients_send(text: str, expected: int) -> None:
    assert instant_ms(text) == expected


def test_bounds_round_sub_millisecond_digits_up() -> None:
    assert instant_ms("2024-05-01T10:00:00.123456", round_up=True) == 1_714_557_600_124
    assert instant_ms("2024-05-01T10:00:00.123000", round_up=True) == 1_714_557_600_123


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "", "1714557600000", "0001-01-01"])
def test_text_that_is_no_instant_is_none(text: str) -> None:
    assert instant_ms(text) is None


def test_the_recorded_time_is_the_documents_timestamp_else_its_created_text() -> None:
    assert recorded_fields({"timestamp": 1_764_163_780_798}, UUID).timestamp_ms == 1_764_163_780_798
    assert (
        recorded_fields({"timestamp": "2020-12-03T17:16:20.028+0000"}, UUID).timestamp_ms == 1_607_015_780_028
    )
    created = {"timestamp": "soon", "created": "2020-12-03T17:16:20.028+0000"}
    assert recorded_fields(created, UUID).timestamp_ms == 1_607_015_780_028
    assert recorded_fields({"timestamp": True}, UUID).timestamp_ms is None
    assert recorded_fields({"timestamp": -5}, UUID).timestamp_ms is None


def test_the_refunded_purchase_is_found_where_points_of_sale_name_it() -> None:
    other = "0e935690-8ec4-11e6-91f3-27d1de799420"
    for document in (
        {"refundsPurchaseUUID1": other},
        {"refundsPurchaseUuid": other.upper()},
        {"refundsPurchaseUUID": "DpNWkI7EEeaR8yfR3nmUIA"},
        {"references": {"refundsPurchaseUUID": other}},
    ):
        assert recorded_fields(document, UUID).refunds_purchase_uuid == other, document
    assert recorded_fields({"refundsPurchaseUUID1": UUID}, UUID).refunds_purchase_uuid is None  # itself
    assert recorded_fields({"references": {"checkoutUUID": other}}, UUID).refunds_purchase_uuid is None


def test_receipt_numbers_are_taken_only_when_they_are_whole_and_not_negative() -> None:
    assert recorded_fields({"purchaseNumber": 12776}, UUID).purchase_number == 12776
    for bad in ("12776", -1, Decimal("1.5"), True, 2**70):
        assert recorded_fields({"purchaseNumber": bad}, UUID).purchase_number is None, bad


def test_query_defaults_are_three_years_back_to_now_oldest_first_and_1000() -> None:
    query = parse_query({}, NOW_MS)
    assert (query.start_ms, query.end_ms) == (years_before(NOW_MS, 3), NOW_MS)
    assert years_before(NOW_MS, 3) == 1_670_284_800_000  # 2022-12-06T00:00:00Z
    assert (query.limit, query.descending, query.after, query.repeated) == (1000, False, None, ())


def test_a_query_names_every_bad_parameter_at_once() -> None:
    params = {
        "startDate": "soon",
        "endDate": "2024-02-30",
        "limit": "0",
        "descending": "yes",
        "lastPurchaseHash": "nope",
    }
    with pytest.raises(ServiceError) as raised:
        parse_query(params, NOW_MS)
    assert raised.value.status == 400
    names = [v.property_name for v in raised.value.violations]
    assert names == ["startDate", "endDate", "limit", "descending", "lastPurchaseHash"]


@pytest.mark.parametrize("limit", ["1001", "-1", "1.5", "ten", "", "1e3", "٣", "9" * 5000])
def test_a_limit_outside_1_to_1000_or_not_an_integer_is_refused(limit: str) -> None:
    with pytest.raises(ServiceError):
        parse_query({"limit": limit}, NOW_MS)


def test_descending_is_read_in_any_case_and_the_callers_parameters_are_kept_for_the_next_link() -> None:
    query = parse_query({"descending": "True", "limit": "2", "startDate": "2024-05-01", "x": "y"}, NOW_MS)
    assert query.descending is True and query.limit == 2
    assert query.repeated == (("limit", "2"), ("startDate", "2024-05-01"), ("descending", "True"))


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(ServiceError) as raised:
        parse_query({"startDate": "2024-05-02", "endDate": "2024-05-01"}, NOW_MS)
    assert raised.value.violations[0].property_name == "endDate"
