"""Products of the Product Library: the model, its limits, etags, and the wire and event entities
(product-library-api §1.4, §1.5, §2.1, §5). No I/O."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import uuid_utils

from stockledger.domain.event_payloads import payload_timestamp

# Limits of Zettle's ProductCreateRequest / VariantDTO (spec §2.2); clients cut to them themselves.
MAX_NAME_CHARS = 256
MAX_DESCRIPTION_CHARS = 1024
MAX_VARIANTS = 99
MAX_SKU_CHARS = 64
MAX_BARCODE_CHARS = 128
MAX_EXTERNAL_REFERENCE_CHARS = 128
MAX_UNIT_NAME_CHARS = 32
MAX_CATEGORY_NAME_CHARS = 100
MAX_LEGACY_CATEGORIES = 1
MAX_OPTIONS = 99
MAX_OPTION_NAME_CHARS = 30
MAX_OPTION_VALUE_CHARS = 256
MAX_DEFINITIONS = 3
MAX_DEFINITION_PROPERTIES = 99
MAX_DEFINITION_IMAGE_URL_CHARS = 256
MAX_ONLINE_TITLE_CHARS = 256
MAX_ONLINE_DESCRIPTION_CHARS = 3500
MAX_SEO_SLUG_CHARS = 256
MAX_SEO_TITLE_CHARS = 256
MAX_SEO_META_DESCRIPTION_CHARS = 320
# Ours (Zettle documents none): generous bounds that keep one product's row small.
MAX_IMAGE_LOOKUP_KEYS = 100
MAX_IMAGE_LOOKUP_KEY_CHARS = 255  # image keys are ~50 characters; one client indexes them at 191
MAX_PRESENTATION_URL_CHARS = 2048
MAX_PRESENTATION_COLOR_CHARS = 64
MAX_TAX_RATES = 50
MAX_TAX_CODE_CHARS = 255
MAX_SOURCE_NAME_CHARS = 255
# The largest integer every JSON reader (JavaScript's doubles included) holds exactly.
MAX_AMOUNT = 2**53 - 1

ONLINE_STATUSES = frozenset({"ACTIVE", "HIDDEN"})
# Default variants of products stored without one are named from their product's UUID (below).
DEFAULT_VARIANT_NAMESPACE = uuid_utils.UUID("2f6e1d0a-8b7c-5e3f-9a41-0c5d7b2e6f18")


@dataclass(frozen=True)
class Price:
    amount: int  # minor units: 1999 = 19.99
    currency_id: str


@dataclass(frozen=True)
class Presentation:
    image_url: str | None = None
    background_color: str | None = None
    text_color: str | None = None


@dataclass(frozen=True)
class VariantOption:
    name: str
    value: str


@dataclass(frozen=True)
class OptionProperty:
    value: str
    image_url: str | None = None


@dataclass(frozen=True)
class OptionDefinition:
    name: str
    properties: tuple[OptionProperty, ...]


@dataclass(frozen=True)
class Category:
    uuid: str
    name: str | None  # None only in a request that names a category by UUID alone


@dataclass(frozen=True)
class Variant:
    uuid: str
    name: str | None = None
    description: str | None = None
    sku: str | None = None
    barcode: str | None = None
    unit_name: str | None = None
    price: Price | None = None
    cost_price: Price | None = None
    options: tuple[VariantOption, ...] | None = None
    presentation: Presentation | None = None


@dataclass(frozen=True)
class Product:
    """A library product. `variants` are the stored ones: a product stored without any (a name from
    the catalog import, say) is answered with one default variant (`listed_variants`)."""

    uuid: str
    name: str | None
    variants: tuple[Variant, ...] = ()
    description: str | None = None
    category: Category | None = None
    categories: tuple[str, ...] = ()  # the legacy `categories` list, as written
    image_lookup_keys: tuple[str, ...] = ()
    presentation: Presentation | None = None
    option_definitions: tuple[OptionDefinition, ...] | None = None
    external_reference: str | None = None
    unit_name: str | None = None
    vat_percentage: Decimal | None = None
    tax_exempt: bool = False
    tax_rates: tuple[str, ...] = ()
    tax_code: str | None = None
    online: Mapping[str, Any] | None = None  # as written (its known members checked)
    metadata: Mapping[str, Any] | None = None  # as written; answered only when complete
    etag: str = ""
    created_ms: int = 0
    updated_ms: int = 0
    created_by: str | None = None
    updated_by: str | None = None


def new_etag() -> str:
    """32 upper-case hex digits, like Zettle's (`D3605CCA2DDF8F2E471663C241F2DB16`)."""
    return secrets.token_hex(16).upper()


def default_variant(product_uuid: str) -> Variant:
    """The variant answered for a product stored without any: the response needs one (spec §2.1),
    and its UUID is stable, so a client that writes it back (or tracks its stock) keeps it."""
    return Variant(str(uuid_utils.uuid5(DEFAULT_VARIANT_NAMESPACE, product_uuid)))


def listed_variants(product: Product) -> tuple[Variant, ...]:
    return product.variants or (default_variant(product.uuid),)


def etag_matches(header: str, etag: str) -> bool:
    """`If-Match` / `If-None-Match`: `*`, or any listed tag equal to `etag` once an optional `W/` and
    the quotes are stripped, compared without regard to case (clients send all three forms, §1.5)."""
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        if tag[:2] in ("W/", "w/"):
            tag = tag[2:]
        if tag.strip('"').strip().upper() == etag.upper():
            return True
    return False


def vat_text(rate: Decimal | None) -> str | None:
    """`vatPercentage` as Zettle answers it: a decimal string, `"25.0"`, `"12.5"` (spec §1.4)."""
    if rate is None:
        return None
    plain = format(rate.normalize(), "f") if rate != 0 else "0"
    return plain if "." in plain else plain + ".0"


# ---- JSON members, shared by the wire entity and the stored columns ------------------------------


def price_json(price: Price | None) -> dict[str, Any] | None:
    return None if price is None else {"amount": price.amount, "currencyId": price.currency_id}


def presentation_json(presentation: Presentation | None) -> dict[str, Any] | None:
    if presentation is None:
        return None
    return {
        "imageUrl": presentation.image_url,
        "backgroundColor": presentation.background_color,
        "textColor": presentation.text_color,
    }


def presentation_from_json(value: Any) -> Presentation | None:
    if not isinstance(value, Mapping):
        return None
    return Presentation(value.get("imageUrl"), value.get("backgroundColor"), value.get("textColor"))


def options_json(options: tuple[VariantOption, ...] | None) -> list[dict[str, str]] | None:
    return None if options is None else [{"name": o.name, "value": o.value} for o in options]


def options_from_json(value: Any) -> tuple[VariantOption, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(VariantOption(o["name"], o["value"]) for o in value)


def definitions_json(definitions: tuple[OptionDefinition, ...] | None) -> list[dict[str, Any]] | None:
    if definitions is None:
        return None
    return [
        {"name": d.name, "properties": [{"value": p.value, "imageUrl": p.image_url} for p in d.properties]}
        for d in definitions
    ]


def definitions_from_json(value: Any) -> tuple[OptionDefinition, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(
        OptionDefinition(
            d["name"], tuple(OptionProperty(p["value"], p.get("imageUrl")) for p in d["properties"])
        )
        for d in value
    )


def complete_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`{inPos, source: {name, external}}` when every member is there with its type, else None: one
    client builds it with non-nullable constructor arguments (spec §2.1)."""
    if metadata is None:
        return None
    in_pos, source = metadata.get("inPos"), metadata.get("source")
    if not isinstance(in_pos, bool) or not isinstance(source, Mapping):
        return None
    name, external = source.get("name"), source.get("external")
    if not isinstance(name, str) or not isinstance(external, bool):
        return None
    return {"inPos": in_pos, "source": {"name": name, "external": external}}


# ---- the entity ----------------------------------------------------------------------------------


def variant_json(variant: Variant, vat: str | None) -> dict[str, Any]:
    return {
        "uuid": variant.uuid,
        "name": variant.name,
        "description": variant.description,
        "sku": variant.sku,
        "barcode": variant.barcode,
        "unitName": variant.unit_name,
        "price": price_json(variant.price),
        "costPrice": price_json(variant.cost_price),
        # The product's rate on every variant: one client rejects a product whose differ (§2.1).
        "vatPercentage": vat,
        "options": options_json(variant.options),
        "presentation": presentation_json(variant.presentation),
    }


def entity_json(product: Product) -> dict[str, Any]:
    """The product as every REST answer carries it (§2.1): every documented key, null for an absent
    object or scalar, `[]` for an absent array, never `{}`."""
    vat = vat_text(product.vat_percentage)
    definitions = definitions_json(product.option_definitions)
    category = product.category
    return {
        "uuid": product.uuid,
        "categories": list(product.categories),
        "category": None if category is None else {"uuid": category.uuid, "name": category.name},
        "name": product.name if product.name is not None else "",
        "description": product.description,
        "imageLookupKeys": list(product.image_lookup_keys),
        "presentation": presentation_json(product.presentation),
        "variants": [variant_json(v, vat) for v in listed_variants(product)],
        "variantOptionDefinitions": None if definitions is None else {"definitions": definitions},
        "externalReference": product.external_reference,
        "unitName": product.unit_name,
        "vatPercentage": vat,
        "taxExempt": product.tax_exempt,
        "taxRates": list(product.tax_rates),
        "taxCode": product.tax_code,
        "online": None if product.online is None else dict(product.online),
        "metadata": complete_metadata(product.metadata),
        "etag": product.etag,
        "updated": payload_timestamp(product.updated_ms),
        "updatedBy": product.updated_by,
        "created": payload_timestamp(product.created_ms),
    }


def _without_nulls(value: Any) -> Any:
    """`value` without null members; an object left with none is left out too (never `{}`: a PHP
    hydrator turns it into an array and a typed setter throws)."""
    if isinstance(value, dict):
        kept = {k: _without_nulls(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in kept.items() if v != {}}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def event_entity(org: str, product: Product) -> dict[str, Any]:
    """The entity in webhook payloads (§5): `organizationUuid` added, `createdByUserUuid` and
    `updatedByUserUuid` instead of `updatedBy`, null members left out (as Zettle's samples do)."""
    entity = entity_json(product)
    del entity["updatedBy"]
    entity["organizationUuid"] = org
    entity["createdByUserUuid"] = product.created_by
    entity["updatedByUserUuid"] = product.updated_by
    cleaned: dict[str, Any] = _without_nulls(entity)
    return cleaned


PRODUCT_CREATED = "ProductCreated"
PRODUCT_UPDATED = "ProductUpdated"
PRODUCT_DELETED = "ProductDeleted"


def product_created(org: str, product: Product) -> dict[str, Any]:
    return event_entity(org, product)


def product_updated(org: str, old: Product, new: Product) -> dict[str, Any]:
    return {"organizationUuid": org, "newEntity": event_entity(org, new), "oldEntity": event_entity(org, old)}


def product_deleted(org: str, product: Product) -> dict[str, Any]:
    """The product as it was, with a fresh etag and `updated` = the deletion (Zettle's sample)."""
    return event_entity(org, product)


@dataclass(frozen=True)
class CategoryRecord:
    """A category of the library as stored and answered by the categories endpoints (§3.9)."""

    uuid: str
    name: str
    etag: str
    created_ms: int
    updated_ms: int
    updated_by: str | None


def category_json(category: CategoryRecord) -> dict[str, Any]:
    """The v1 category object (`GET …/categories`); v2 lists answer only `uuid` and `name`."""
    return {
        "uuid": category.uuid,
        "name": category.name,
        "etag": category.etag,
        "updated": payload_timestamp(category.updated_ms),
        "updatedBy": category.updated_by,
        "created": payload_timestamp(category.created_ms),
    }
