"""Catalog use cases: storing names by API or CSV import, and learning them from purchase documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.catalog import CatalogProduct, CatalogVariant
from stockledger.domain.errors import not_found
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.text import without_nul
from stockledger.service.context import Actor
from stockledger.store import catalog
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import WriteClaim

MAX_TEXT_LEN = 255  # the width of the name, sku and barcode columns


async def put_product(
    db: Database,
    actor: Actor,
    product_uuid: str,
    name: str,
    variants: list[CatalogVariant],
    claim: WriteClaim | None = None,
) -> CatalogProduct:
    """Store the product's name and exactly these variants; answers the stored entry."""

    async def work(conn: AsyncConnection) -> CatalogProduct:
        await catalog.replace_product(conn, actor.org, product_uuid, name, variants, now_ms())
        stored = await catalog.get_product(conn, actor.org, product_uuid)
        assert stored is not None
        return stored

    return await db.write(work, claim=claim)


async def get_product(db: Database, actor: Actor, product_uuid: str) -> CatalogProduct:
    async def work(conn: AsyncConnection) -> CatalogProduct | None:
        return await catalog.get_product(conn, actor.org, product_uuid)

    found = await db.read(work)
    if found is None:
        raise not_found(f"No catalog entry for product {product_uuid}")
    return found


def _text(value: Any) -> str | None:
    """A usable name: a non-blank string without NUL characters (a purchase is recorded whatever its
    names hold, domain/text.py), cut to the column width; anything else is unknown."""
    if not isinstance(value, str):
        return None
    value = without_nul(value).strip()
    return value[:MAX_TEXT_LEN] or None


async def remember_from_purchase(conn: AsyncConnection, org: str, document: Mapping[str, Any]) -> int:
    """Fill names from a Zettle purchase document's lines in the caller's transaction.

    Lines without valid product and variant UUIDs are ignored; a line never erases a stored name
    (blank fields leave it as it is). Returns the number of lines used.
    """
    lines = document.get("products")
    if not isinstance(lines, list):
        return 0
    used = 0
    at_ms = now_ms()
    for line in lines:
        if not isinstance(line, Mapping):
            continue
        product = canonical_uuid(line.get("productUuid"))
        variant = canonical_uuid(line.get("variantUuid"))
        if product is None or variant is None:
            continue
        await catalog.merge_product(conn, org, product, _text(line.get("name")), at_ms)
        variant_entry = CatalogVariant(variant, _text(line.get("variantName")), _text(line.get("sku")))
        await catalog.merge_variants(conn, org, product, [variant_entry], at_ms)
        used += 1
    return used


@dataclass(frozen=True)
class ImportRow:
    """One valid CSV row of `stockledger catalog import`."""

    product_uuid: str
    product_name: str | None
    variant: CatalogVariant | None


def parse_import_row(row: Mapping[str, str | None]) -> ImportRow | str:
    """A CSV row as an ImportRow, or the reason it is skipped."""
    product = canonical_uuid((row.get("productUuid") or "").strip())
    if product is None:
        return "productUuid is not a UUID"
    raw_variant = (row.get("variantUuid") or "").strip()
    variant = None
    if raw_variant:
        variant_uuid = canonical_uuid(raw_variant)
        if variant_uuid is None:
            return "variantUuid is not a UUID"
        variant = CatalogVariant(
            variant_uuid, _text(row.get("variantName")), _text(row.get("sku")), _text(row.get("barcode"))
        )
    return ImportRow(product, _text(row.get("productName")), variant)


async def import_rows(db: Database, org: str, rows: Iterable[ImportRow]) -> None:
    """Merge one batch of rows in one transaction (a stored name is replaced, never erased)."""
    batch = list(rows)

    async def work(conn: AsyncConnection) -> None:
        at_ms = now_ms()
        for row in batch:
            await catalog.merge_product(conn, org, row.product_uuid, row.product_name, at_ms)
            if row.variant is not None:
                await catalog.merge_variants(conn, org, row.product_uuid, [row.variant], at_ms)

    await db.write(work)
