"""Updates of Product Library products (product-library-api §3.5): a JSON merge patch (RFC 7396)
over the stored product's request document, variants merged by UUID; the merged document is then
checked like a create body (domain/product_input.parse_product). No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stockledger.domain import products as p
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.ids import canonical_uuid

# Members replaced whole rather than merged: merging a category's name into another category's UUID
# would rename that one; the definitions are one list of options (spec §3.5).
REPLACED_WHOLE = frozenset({"category", "variantOptionDefinitions"})


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: an object merges member by member (null removes), anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _merge_variants(stored: list[dict[str, Any]], patch: list[Any]) -> list[Any]:
    """Exactly the listed variants, in the listed order: a known UUID merges into the stored variant
    (what the body leaves out keeps its value), a new one is created, an unlisted one is removed."""
    by_uuid = {v["uuid"]: v for v in stored}
    merged: list[Any] = []
    for item in patch:
        uuid = canonical_uuid(item.get("uuid")) if isinstance(item, Mapping) else None
        if uuid is not None and uuid in by_uuid:
            merged.append({**merge_patch(by_uuid[uuid], item), "uuid": uuid})
        else:
            merged.append(item)
    return merged


def check_patch(patch: Any, product_uuid: str) -> Mapping[str, Any]:
    """The update body's own rules, before it is merged: an object; `uuid` absent, null or the
    path's; `variants` (when given) lists at least one variant."""
    if not isinstance(patch, Mapping):
        raise validation_error([Violation("", "the body must be a JSON object")])
    violations = []
    raw_uuid = patch.get("uuid")
    if raw_uuid is not None and canonical_uuid(raw_uuid) != product_uuid:
        violations.append(Violation("uuid", "must be the productUuid of the path"))
    if "variants" in patch and (patch["variants"] is None or patch["variants"] == []):
        violations.append(Violation("variants", "must list at least one variant"))
    if violations:
        raise validation_error(violations)
    return patch


def patch_document(stored: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The stored product's request document (`request_document`) with the patch applied."""
    merged = dict(stored)
    for key, value in patch.items():
        if key == "uuid":
            continue
        if key == "variants" and isinstance(value, list):
            merged["variants"] = _merge_variants(stored.get("variants") or [], value)
        elif value is None:
            merged.pop(key, None)
        elif key in REPLACED_WHOLE:
            merged[key] = value
        else:
            merged[key] = merge_patch(stored.get(key), value)
    return merged


def variant_document(variant: p.Variant) -> dict[str, Any]:
    return {
        "uuid": variant.uuid,
        "name": variant.name,
        "description": variant.description,
        "sku": variant.sku,
        "barcode": variant.barcode,
        "unitName": variant.unit_name,
        "price": p.price_json(variant.price),
        "costPrice": p.price_json(variant.cost_price),
        "options": p.options_json(variant.options),
        "presentation": p.presentation_json(variant.presentation),
    }


def request_document(product: p.Product) -> dict[str, Any]:
    """A stored product as the request body that would create it (null members left out), so that
    an update is the same check as a create on the merged document."""
    definitions = p.definitions_json(product.option_definitions)
    category = product.category
    document: dict[str, Any] = {
        "uuid": product.uuid,
        "name": product.name,
        "description": product.description,
        "categories": list(product.categories),
        "category": None if category is None else {"uuid": category.uuid, "name": category.name},
        "imageLookupKeys": list(product.image_lookup_keys),
        "presentation": p.presentation_json(product.presentation),
        "variants": [variant_document(v) for v in product.variants],
        "variantOptionDefinitions": None if definitions is None else {"definitions": definitions},
        "externalReference": product.external_reference,
        "unitName": product.unit_name,
        "vatPercentage": p.vat_text(product.vat_percentage),
        "taxExempt": product.tax_exempt,
        "taxRates": list(product.tax_rates),
        "taxCode": product.tax_code,
        "online": None if product.online is None else dict(product.online),
        "metadata": None if product.metadata is None else dict(product.metadata),
    }
    return {k: v for k, v in document.items() if v is not None}
