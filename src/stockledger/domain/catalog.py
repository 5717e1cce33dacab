"""Catalog names of products and variants, as stored and returned (names only, no rules)."""

from __future__ import annotations

from dataclasses import dataclass


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
