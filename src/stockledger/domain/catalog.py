"""The catalog extension's view of library products: names, SKUs and barcodes (no other rules)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from stockledger.domain.products import Product, Variant


@dataclass(frozen=True)
class CatalogVariant:
    uuid: str
    name: str | None = None
    sku: str | None = None
    barcode: str | None = None


@dataclass(frozen=True)
class CatalogProduct:
    product_uuid: str
    name: str | None
    variants: list[CatalogVariant]


def catalog_view(product: Product) -> CatalogProduct:
    """The names of a library product and of its stored variants, in their order."""
    return CatalogProduct(
        product.uuid,
        product.name,
        [CatalogVariant(v.uuid, v.name, v.sku, v.barcode) for v in product.variants],
    )


def with_names(
    stored: Product | None, product_uuid: str, name: str, variants: list[CatalogVariant]
) -> Product:
    """The catalog's PUT: the product's name and exactly the listed variants with their names, SKUs
    and barcodes; what the catalog does not speak of (prices, options, …) is kept."""
    base = stored or Product(product_uuid, None)
    known = {v.uuid: v for v in base.variants}
    listed = tuple(
        replace(known.get(v.uuid) or Variant(v.uuid), name=v.name, sku=v.sku, barcode=v.barcode)
        for v in variants
    )
    return replace(base, name=name, variants=listed)


def merged_names(
    stored: Product | None, product_uuid: str, name: str | None, variants: list[CatalogVariant]
) -> Product:
    """The CSV import: a given name replaces the stored one, a blank (None) keeps it; variants are
    added or have their given fields replaced; no variant is removed."""
    base = stored or Product(product_uuid, None)
    listed = list(base.variants)
    position = {v.uuid: i for i, v in enumerate(listed)}
    for v in variants:
        if v.uuid not in position:
            position[v.uuid] = len(listed)
            listed.append(Variant(v.uuid))
        known = listed[position[v.uuid]]
        listed[position[v.uuid]] = replace(
            known, name=v.name or known.name, sku=v.sku or known.sku, barcode=v.barcode or known.barcode
        )
    return replace(base, name=name if name is not None else base.name, variants=tuple(listed))
