"""Pure rules of the Product Library (domain/products.py, product_input.py, product_patch.py)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest

from stockledger.domain import products as p
from stockledger.domain.catalog import CatalogVariant, merged_names, with_names
from stockledger.domain.errors import ServiceError
from stockledger.domain.product_input import parse_product, plain_json
from stockledger.domain.product_patch import check_patch, merge_patch, patch_document, request_document
from stockledger.exact_json import loads_exact


def new() -> str:
    return str(uuid.uuid4())


def violations(body: Any) -> list[str]:
    with pytest.raises(ServiceError) as caught:
        parse_product(body)
    assert caught.value.status == 400
    return [v.property_name for v in caught.value.violations]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"12300", 12300), (b"12300.0", 12300), (b"1.23e4", 12300), (b"0", 0), (b"9007199254740991", 2**53 - 1)],
)
def test_amounts_are_integral_numbers_of_minor_units(raw: bytes, expected: int) -> None:
    body = loads_exact(
        b'{"uuid":"%s","name":"x","variants":[{"uuid":"%s","price":{"amount":%s,"currencyId":"sek"}}]}'
        % (new().encode(), new().encode(), raw)
    )
    price = parse_product(body).variants[0].price
    assert price == p.Price(expected, "SEK") and type(price.amount) is int


@pytest.mark.parametrize("raw", [b"12300.5", b"-1", b"9007199254740992", b'"100"', b"true", b"null"])
def test_other_amounts_are_refused(raw: bytes) -> None:
    body = loads_exact(
        b'{"uuid":"%s","name":"x","variants":[{"uuid":"%s","price":{"amount":%s,"currencyId":"SEK"}}]}'
        % (new().encode(), new().encode(), raw)
    )
    assert violations(body) == ["variants[0].price.amount"]


def test_every_violation_is_reported_at_once_with_its_path() -> None:
    body = {
        "uuid": new(),
        "name": "",
        "description": 5,
        "variants": [{"uuid": new(), "sku": "s" * 65, "price": {"amount": -3, "currencyId": "SEK"}}, None],
    }
    assert violations(body) == [
        "name",
        "description",
        "variants[0].sku",
        "variants[0].price.amount",
        "variants[1]",
    ]


def test_text_with_a_nul_character_is_refused() -> None:
    assert violations({"uuid": new(), "name": "a\x00b"}) == ["name"]


def test_options_must_be_defined_when_the_product_defines_options() -> None:
    definitions = {"definitions": [{"name": "Size", "properties": [{"value": "S"}, {"value": "M"}]}]}
    base = {"uuid": new(), "name": "x", "variantOptionDefinitions": definitions}
    good = parse_product({**base, "variants": [{"uuid": new(), "options": [{"name": "Size", "value": "M"}]}]})
    assert good.variants[0].options == (p.VariantOption("Size", "M"),)
    bad = {
        **base,
        "variants": [
            {"uuid": new(), "options": [{"name": "Size", "value": "L"}, {"name": "Fit", "value": "S"}]}
        ],
    }
    assert violations(bad) == ["variants[0].options[0].value", "variants[0].options[1].name"]
    # without definitions a variant's options are taken as written
    free = parse_product(
        {"uuid": new(), "name": "x", "variants": [{"uuid": new(), "options": [{"name": "A", "value": "B"}]}]}
    )
    assert free.variants[0].options == (p.VariantOption("A", "B"),)


def test_empty_options_and_definitions_are_none() -> None:
    product = parse_product(
        {
            "uuid": new(),
            "name": "x",
            "variantOptionDefinitions": {"definitions": []},
            "variants": [{"uuid": new(), "options": []}],
        }
    )
    assert product.option_definitions is None and product.variants[0].options is None
    assert p.entity_json(product)["variantOptionDefinitions"] is None


def test_definitions_refuse_duplicates_and_more_than_three() -> None:
    prop = [{"value": "A"}]
    twice = {"definitions": [{"name": "Size", "properties": prop}, {"name": "Size", "properties": prop}]}
    assert violations({"uuid": new(), "name": "x", "variantOptionDefinitions": twice}) == [
        "variantOptionDefinitions.definitions[1].name"
    ]
    four = {"definitions": [{"name": f"D{i}", "properties": prop} for i in range(4)]}
    assert violations({"uuid": new(), "name": "x", "variantOptionDefinitions": four}) == [
        "variantOptionDefinitions.definitions"
    ]


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (Decimal("25"), "25.0"),
        (Decimal("12.5"), "12.5"),
        (Decimal("0"), "0.0"),
        (Decimal("100"), "100.0"),
        (Decimal("6.250"), "6.25"),
        (None, None),
    ],
)
def test_vat_is_answered_as_a_decimal_string(rate: Decimal | None, text: str | None) -> None:
    assert p.vat_text(rate) == text


def test_variants_answer_the_products_vat_and_a_disagreeing_variant_is_refused() -> None:
    product = parse_product(
        {
            "uuid": new(),
            "name": "x",
            "vatPercentage": "12.5",
            "variants": [{"uuid": new(), "vatPercentage": 12.5}],
        }
    )
    entity = p.entity_json(product)
    assert entity["vatPercentage"] == entity["variants"][0]["vatPercentage"] == "12.5"
    body = {
        "uuid": new(),
        "name": "x",
        "variants": [{"uuid": new(), "vatPercentage": 6}, {"uuid": new(), "vatPercentage": 12}],
    }
    assert violations(body) == ["variants[1].vatPercentage"]


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ("*", True),
        ('"ABCDEF"', True),
        ("ABCDEF", True),
        ('W/"abcdef"', True),
        ('"000", "ABCDEF"', True),
        ('"ABCDE"', False),
        ("", False),
        ('W/"000"', False),
    ],
)
def test_if_match_forms(header: str, matches: bool) -> None:
    assert p.etag_matches(header, "ABCDEF") is matches


def test_new_etags_look_like_zettles_and_differ() -> None:
    etags = {p.new_etag() for _ in range(100)}
    assert len(etags) == 100 and all(len(e) == 32 and e == e.upper() and int(e, 16) >= 0 for e in etags)


def test_metadata_is_answered_only_when_complete() -> None:
    assert p.complete_metadata(None) is None
    assert p.complete_metadata({"inPos": True}) is None
    assert p.complete_metadata({"inPos": True, "source": {"name": "X"}}) is None
    assert p.complete_metadata({"inPos": True, "source": {"name": None, "external": True}}) is None
    full = {"inPos": True, "source": {"name": "X", "external": False}}
    assert p.complete_metadata({**full, "extra": 1}) == full


def test_a_product_without_variants_answers_a_stable_default_variant() -> None:
    product = p.Product(new(), "Gift card")
    first, second = p.listed_variants(product), p.listed_variants(p.Product(product.uuid, "Other"))
    assert first == second and len(first) == 1 and first[0].uuid != product.uuid
    assert p.listed_variants(p.Product(new(), "x")) != first


def test_the_entity_never_holds_an_empty_object_and_the_event_drops_nulls() -> None:
    product = p.Product(
        new(), None, variants=(p.Variant(new()),), etag="E", created_ms=1, updated_ms=2, updated_by="u"
    )
    entity = p.entity_json(product)
    assert entity["name"] == "" and entity["presentation"] is None and entity["metadata"] is None
    assert "{}" not in json.dumps(entity)
    event = p.event_entity("org", product)
    assert (
        "updatedBy" not in event and event["updatedByUserUuid"] == "u" and event["organizationUuid"] == "org"
    )
    assert None not in event.values() and None not in event["variants"][0].values()
    assert event["updated"] == "1970-01-01T00:00:00.002+0000"


def test_merge_patch_follows_rfc_7396() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert merge_patch(target, {"c": ["x"]}) == {"a": "b", "c": ["x"]}
    assert merge_patch(None, {"a": {"b": None}}) == {"a": {}}


def test_a_patch_merges_variants_by_uuid_and_replaces_category_whole() -> None:
    a, b, c = new(), new(), new()
    stored = parse_product(
        {
            "uuid": new(),
            "name": "x",
            "category": {"uuid": new(), "name": "Old"},
            "variants": [{"uuid": a, "name": "A", "price": {"amount": 1, "currencyId": "SEK"}}, {"uuid": b}],
        }
    )
    other_category = new()
    patch = {
        "category": {"uuid": other_category},
        "variants": [{"uuid": c}, {"uuid": a.upper(), "name": "A2"}],
    }
    merged = parse_product(patch_document(request_document(stored), check_patch(patch, stored.uuid)))
    assert merged.category == p.Category(other_category, None)  # not renamed into "Old"
    assert [v.uuid for v in merged.variants] == [c, a]
    assert merged.variants[1].name == "A2" and merged.variants[1].price == p.Price(1, "SEK")


@pytest.mark.parametrize(
    "patch", [{"variants": None}, {"variants": []}, {"uuid": "0b3a8a52-7d61-1a0e-9d2e-5c6f1e4b9a10"}, ["x"]]
)
def test_patch_rules(patch: Any) -> None:
    with pytest.raises(ServiceError):
        check_patch(patch, new())


def test_request_document_round_trips_a_product() -> None:
    body = {
        "uuid": new(),
        "name": "x",
        "description": "d",
        "categories": ["c"],
        "imageLookupKeys": ["k"],
        "presentation": {"imageUrl": "u"},
        "variants": [
            {
                "uuid": new(),
                "price": {"amount": 5, "currencyId": "EUR"},
                "options": [{"name": "S", "value": "1"}],
            }
        ],
        "variantOptionDefinitions": {
            "definitions": [{"name": "S", "properties": [{"value": "1", "imageUrl": "i"}]}]
        },
        "vatPercentage": "7.5",
        "taxExempt": True,
        "taxRates": [new()],
        "taxCode": "T",
        "online": {"status": "HIDDEN", "shipping": {"weightInGrams": 2.5}},
        "metadata": {"inPos": True},
    }
    product = parse_product(body)
    assert parse_product(request_document(product)) == product


def test_plain_json_turns_exact_decimals_into_json_numbers() -> None:
    assert plain_json({"a": [Decimal("2.5"), Decimal("3.0")]}) == {"a": [2.5, 3]}


def test_catalog_writes_keep_the_librarys_other_members() -> None:
    v1, v2 = new(), new()
    stored = parse_product(
        {
            "uuid": new(),
            "name": "x",
            "variants": [{"uuid": v1, "sku": "A", "price": {"amount": 5, "currencyId": "SEK"}}],
        }
    )
    put = with_names(
        stored, stored.uuid, "y", [CatalogVariant(v1, "One", None, "123"), CatalogVariant(v2, "Two")]
    )
    assert put.name == "y" and [v.uuid for v in put.variants] == [v1, v2]
    assert put.variants[0].price == p.Price(5, "SEK") and put.variants[0].sku is None
    merged = merged_names(stored, stored.uuid, None, [CatalogVariant(v1, None, "B", None)])
    assert (
        merged.name == "x" and merged.variants[0].sku == "B" and merged.variants[0].price == p.Price(5, "SEK")
    )


@pytest.mark.parametrize("amount", [float("inf"), float("nan"), 1.5])
def test_python_floats_from_callers_are_checked_like_json_numbers(amount: float) -> None:
    body = {
        "uuid": new(),
        "name": "x",
        "variants": [{"uuid": new(), "price": {"amount": amount, "currencyId": "SEK"}}],
    }
    assert violations(body) == ["variants[0].price.amount"]


def test_event_entities_never_hold_an_empty_object() -> None:
    from stockledger.domain.products import _without_nulls

    entity = {
        "name": "Lamp",
        "metadata": None,
        "presentation": {"imageUrl": None, "backgroundColor": None, "textColor": None},
        "variants": [{"uuid": "v", "presentation": {"imageUrl": None}, "price": {"amount": 100}}],
    }
    assert _without_nulls(entity) == {"name": "Lamp", "variants": [{"uuid": "v", "price": {"amount": 100}}]}
