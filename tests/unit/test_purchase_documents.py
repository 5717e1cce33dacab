"""Purchase documents: validation paths and the movements a sale or a refund implies (no I/O)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockledger.domain.errors import ServiceError
from stockledger.domain.purchases import (
    PurchasePlan,
    SkipReason,
    parse_purchase,
    plan_purchase,
    publishable,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "purchase-documents.jsonl"
DOCUMENTS = [
    json.loads(line, parse_float=Decimal) for line in FIXTURES.read_text().splitlines() if line.strip()
]
STORE, SOLD, OTHER_STORE = (
    "00000000-0000-1000-8000-000000000001",
    "00000000-0000-1000-8000-000000000002",
    "00000000-0000-1000-8000-000000000003",
)
KNOWN = {STORE, SOLD, OTHER_STORE}
TEE = "4a98a670-7c2e-11eb-bb38-e398536ff6aa"
TEE_S, TEE_M = "4a98a671-7c2e-11eb-bb38-e398536ff6aa", "4a98a672-7c2e-11eb-bb38-e398536ff6aa"
BEANS, WRAP = "ffa4e654-987c-11eb-bd32-b9ba7d636d99", "9c1d2e3f-987c-11eb-bd32-b9ba7d636d99"


def plan(document: dict[str, Any], tracked: set[str]) -> PurchasePlan:
    purchase = parse_purchase(document, max_lines=1000)
    return plan_purchase(purchase, tracked=tracked, known_locations=KNOWN, store=STORE, sold=SOLD)


def violations(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(ServiceError) as caught:
        plan(document, {TEE})
    assert caught.value.status == 400
    return [(v.property_name, v.message) for v in caught.value.violations]


def line(quantity: Any = "1", **extra: Any) -> dict[str, Any]:
    return {"productUuid": TEE, "variantUuid": TEE_S, "quantity": quantity, **extra}


def doc(*lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"purchaseUuid": "7cdf4ae2-a110-11eb-a7f9-24cfef8c2970", "products": list(lines), **extra}


def test_sale_moves_each_tracked_line_from_store_to_sold() -> None:
    result = plan(DOCUMENTS[0], {TEE}).result(DOCUMENTS[0]["purchaseUuid"])
    assert result["applied"] == [
        {
            "index": 0,
            "productUuid": TEE,
            "variantUuid": TEE_S,
            "fromLocationUuid": STORE,
            "toLocationUuid": SOLD,
            "change": "2",
        },
        {
            "index": 1,
            "productUuid": TEE,
            "variantUuid": TEE_M,
            "fromLocationUuid": STORE,
            "toLocationUuid": SOLD,
            "change": "1",
        },
    ]
    assert result["skipped"] == []


def test_weighed_custom_and_untracked_lines() -> None:
    result = plan(DOCUMENTS[1], {TEE, BEANS}).result("x")
    assert [(a["index"], a["change"]) for a in result["applied"]] == [(0, "0.45"), (3, "1")]
    assert result["skipped"] == [
        {"index": 1, "reason": "NO_PRODUCT"},
        {"index": 2, "productUuid": WRAP, "reason": "NOT_TRACKED"},
    ]


def test_refund_with_negative_quantity_reverses_once() -> None:
    planned = plan(DOCUMENTS[2], {TEE})
    assert [(c.from_location, c.to_location, c.units) for c in planned.changes] == [(SOLD, STORE, 1000)]


@pytest.mark.parametrize(
    ("refund", "quantity"), [(True, "1"), (True, "-1"), (False, "-1"), (None, -1), (True, -1)]
)
def test_every_spelling_of_a_refund_is_one_reversal(refund: bool | None, quantity: Any) -> None:
    extra = {} if refund is None else {"refund": refund}
    planned = plan(doc(line(quantity), **extra), {TEE})
    assert [(c.from_location, c.to_location, c.units) for c in planned.changes] == [(SOLD, STORE, 1000)]


def test_quantity_as_number_string_or_decimal() -> None:
    planned = plan(doc(line(2), line("2.5"), line(Decimal("0.125"))), {TEE})
    assert [c.units for c in planned.changes] == [2000, 2500, 125]


def test_variant_sold_twice_in_one_purchase_gives_two_movements() -> None:
    planned = plan(doc(line("1"), line("2")), {TEE})
    assert [(c.variant_uuid, c.units, c.path) for c in planned.changes] == [
        (TEE_S, 1000, "products[0]"),
        (TEE_S, 2000, "products[1]"),
    ]


def test_zero_quantity_is_skipped() -> None:
    assert plan(doc(line("0")), {TEE}).skipped[0].reason is SkipReason.ZERO_QUANTITY


def test_line_locations_are_used_and_reversed_by_a_refund() -> None:
    sale = plan(doc(line("1", fromLocationUuid=OTHER_STORE)), {TEE}).changes[0]
    assert (sale.from_location, sale.to_location) == (OTHER_STORE, SOLD)
    refund = plan(doc(line("1", fromLocationUuid=OTHER_STORE), refund=True), {TEE}).changes[0]
    assert (refund.from_location, refund.to_location) == (SOLD, OTHER_STORE)


def test_unknown_line_location_is_rejected() -> None:
    unknown = "00000000-0000-1000-8000-0000000000ff"
    assert violations(doc(line(), line(toLocationUuid=unknown))) == [
        ("products[1].toLocationUuid", "unknown location")
    ]


def test_line_location_equal_to_the_other_end_is_rejected() -> None:
    assert violations(doc(line(fromLocationUuid=SOLD))) == [
        ("products[0].toLocationUuid", "must differ from fromLocationUuid")
    ]


def test_bad_documents_name_every_offending_property() -> None:
    bad = {
        "products": [
            line(),
            {"productUuid": "not-a-uuid", "variantUuid": TEE_S, "quantity": "1"},
            line("abc"),
            line("1.2345"),
            {"productUuid": TEE, "quantity": "1"},
            "oops",
        ],
        "refund": "yes",
    }
    assert violations(bad) == [
        ("purchaseUuid", "must not be null"),
        ("refund", "must be a boolean"),
        ("products[1].productUuid", "must be a UUID"),
        ("products[2].quantity", "must be a plain decimal number"),
        ("products[3].quantity", "must have at most 3 fraction digits"),
        ("products[4].variantUuid", "must not be null"),
        ("products[5]", "must be a JSON object"),
    ]


def test_products_must_be_a_list_and_document_an_object() -> None:
    assert violations({"purchaseUuid": DOCUMENTS[0]["purchaseUuid"]}) == [("products", "must not be null")]
    assert violations([]) == [("", "must be a JSON object")]


def test_too_many_lines_are_rejected() -> None:
    with pytest.raises(ServiceError):
        parse_purchase(doc(line(), line()), max_lines=1)


def test_uuids_are_canonicalised_and_extra_fields_ignored() -> None:
    document = doc(line(productUuid=TEE.upper(), name="T-shirt", taxRates=[]), purchaseUuid=TEE.upper())
    purchase = parse_purchase(document, max_lines=10)
    assert purchase.purchase_uuid == TEE
    assert purchase.lines[0].product_uuid == TEE


def test_publishable_turns_exact_decimals_back_into_json_numbers() -> None:
    assert publishable({"vat": [Decimal("20.0")], "amount": 5400, "q": "0.45"}) == {
        "vat": [20.0],
        "amount": 5400,
        "q": "0.45",
    }


def test_absurdly_nested_extra_field_is_rejected_not_republished() -> None:
    nested: Any = "deep"
    for _ in range(300):
        nested = {"x": nested}
    with pytest.raises(ServiceError) as caught:
        publishable({**doc(line()), "details": nested})
    assert caught.value.status == 400


@given(
    quantities=st.lists(
        st.decimals(min_value=Decimal("0"), max_value=Decimal("999"), places=3), min_size=1, max_size=8
    ),
    spell_as_negative=st.booleans(),
)
def test_a_refund_undoes_its_sale_whatever_its_spelling(
    quantities: list[Decimal], spell_as_negative: bool
) -> None:
    sale = doc(*(line(str(q)) for q in quantities))
    refund_lines = (line(str(-q if spell_as_negative else q)) for q in quantities)
    refund = doc(*refund_lines, refund=True)
    deltas: dict[str, int] = {}
    for change in plan(sale, {TEE}).changes + plan(refund, {TEE}).changes:
        deltas[change.from_location] = deltas.get(change.from_location, 0) - change.units
        deltas[change.to_location] = deltas.get(change.to_location, 0) + change.units
    assert set(deltas.values()) <= {0}
