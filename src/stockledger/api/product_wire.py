"""Wire documentation of the Product Library (product-library-api §2): response models and request
schemas for /openapi.json. Requests are read by the domain (domain/product_input.py), so their
schemas are declared for the documentation only."""

from __future__ import annotations

from typing import Any

from stockledger.api.wire import Wire
from stockledger.domain import products as p


class PriceOut(Wire):
    amount: int
    currencyId: str


class PresentationOut(Wire):
    imageUrl: str | None
    backgroundColor: str | None
    textColor: str | None


class OptionOut(Wire):
    name: str
    value: str


class VariantOut(Wire):
    uuid: str
    name: str | None
    description: str | None
    sku: str | None
    barcode: str | None
    unitName: str | None
    price: PriceOut | None
    costPrice: PriceOut | None
    vatPercentage: str | None
    options: list[OptionOut] | None
    presentation: PresentationOut | None


class OptionPropertyOut(Wire):
    value: str
    imageUrl: str | None


class OptionDefinitionOut(Wire):
    name: str
    properties: list[OptionPropertyOut]


class OptionDefinitionsOut(Wire):
    definitions: list[OptionDefinitionOut]


class ProductCategoryOut(Wire):
    uuid: str
    name: str | None


class MetadataSourceOut(Wire):
    name: str
    external: bool


class MetadataOut(Wire):
    inPos: bool
    source: MetadataSourceOut


class ProductOut(Wire):
    uuid: str
    categories: list[str]
    category: ProductCategoryOut | None
    name: str
    description: str | None
    imageLookupKeys: list[str]
    presentation: PresentationOut | None
    variants: list[VariantOut]
    variantOptionDefinitions: OptionDefinitionsOut | None
    externalReference: str | None
    unitName: str | None
    vatPercentage: str | None
    taxExempt: bool
    taxRates: list[str]
    taxCode: str | None
    online: dict[str, Any] | None
    metadata: MetadataOut | None
    etag: str
    updated: str
    updatedBy: str | None
    created: str


class ProductCountOut(Wire):
    productCount: int


class OptionValuesOut(Wire):
    name: str
    values: list[str]


class VariantOptionsOut(Wire):
    options: list[OptionValuesOut]


class CategoryV2Out(Wire):
    uuid: str
    name: str


class CategoriesOut(Wire):
    categories: list[CategoryV2Out]


class CategoryOut(Wire):
    uuid: str
    name: str
    etag: str
    updated: str
    updatedBy: str | None
    created: str


# ---- request schemas (documentation) -------------------------------------------------------------


def _text(max_chars: int) -> dict[str, Any]:
    return {"type": ["string", "null"], "maxLength": max_chars}


_UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
_AMOUNT: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": p.MAX_AMOUNT}
_PRICE: dict[str, Any] = {
    "type": ["object", "null"],
    "required": ["amount", "currencyId"],
    "properties": {"amount": _AMOUNT, "currencyId": {"type": "string", "pattern": "^[A-Z]{3}$"}},
}
_VAT: dict[str, Any] = {
    "anyOf": [{"type": "number", "minimum": 0, "maximum": 100}, {"type": "string"}, {"type": "null"}]
}
_PRESENTATION: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {
        "imageUrl": _text(p.MAX_PRESENTATION_URL_CHARS),
        "backgroundColor": _text(p.MAX_PRESENTATION_COLOR_CHARS),
        "textColor": _text(p.MAX_PRESENTATION_COLOR_CHARS),
    },
}
VARIANT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["uuid"],
    "additionalProperties": True,
    "properties": {
        "uuid": _UUID,
        "name": _text(p.MAX_NAME_CHARS),
        "description": _text(p.MAX_DESCRIPTION_CHARS),
        "sku": _text(p.MAX_SKU_CHARS),
        "barcode": _text(p.MAX_BARCODE_CHARS),
        "unitName": _text(p.MAX_UNIT_NAME_CHARS),
        "price": _PRICE,
        "costPrice": _PRICE,
        "vatPercentage": _VAT,
        "options": {
            "type": ["array", "null"],
            "maxItems": p.MAX_OPTIONS,
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": p.MAX_OPTION_NAME_CHARS},
                    "value": {"type": "string", "minLength": 1, "maxLength": p.MAX_OPTION_VALUE_CHARS},
                },
            },
        },
        "presentation": _PRESENTATION,
    },
}
PRODUCT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["uuid", "name"],
    "additionalProperties": True,
    "description": "Unknown and read-only members (etag, created, updated, …) are ignored.",
    "properties": {
        "uuid": _UUID,
        "name": {"type": "string", "minLength": 1, "maxLength": p.MAX_NAME_CHARS},
        "description": _text(p.MAX_DESCRIPTION_CHARS),
        "categories": {"type": "array", "maxItems": p.MAX_LEGACY_CATEGORIES, "items": {"type": "string"}},
        "category": {
            "type": ["object", "null"],
            "required": ["uuid"],
            "properties": {"uuid": _UUID, "name": _text(p.MAX_CATEGORY_NAME_CHARS)},
        },
        "imageLookupKeys": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
        "presentation": _PRESENTATION,
        "variants": {"type": "array", "maxItems": p.MAX_VARIANTS, "items": VARIANT_SCHEMA},
        "variantOptionDefinitions": {"type": ["object", "null"]},
        "externalReference": _text(p.MAX_EXTERNAL_REFERENCE_CHARS),
        "unitName": _text(p.MAX_UNIT_NAME_CHARS),
        "vatPercentage": _VAT,
        "taxExempt": {"type": ["boolean", "null"]},
        "taxRates": {"type": "array", "items": _UUID},
        "taxCode": _text(p.MAX_TAX_CODE_CHARS),
        "online": {"type": ["object", "null"]},
        "metadata": {"type": ["object", "null"]},
    },
}
PRODUCT_PATCH_SCHEMA: dict[str, Any] = {
    **PRODUCT_SCHEMA,
    "required": [],
    "description": "A JSON merge patch: a member given replaces, null removes, absent keeps; "
    "variants are merged by uuid (those not listed are removed).",
}
CATEGORIES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["categories"],
    "properties": {
        "categories": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["uuid", "name"],
                "properties": {
                    "uuid": _UUID,
                    "name": {"type": "string", "minLength": 1, "maxLength": p.MAX_CATEGORY_NAME_CHARS},
                },
            },
        }
    },
}
CATEGORY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["uuid", "name"],
    "properties": {
        "uuid": _UUID,
        "name": {"type": "string", "minLength": 1, "maxLength": p.MAX_CATEGORY_NAME_CHARS},
    },
}
RENAME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": p.MAX_CATEGORY_NAME_CHARS}},
}


def body_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
