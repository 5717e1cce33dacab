"""The catalog extension and the CSV import: names, SKUs and barcodes of Product Library products,
written through the library (service/products.py, with its events) — and names learnt from purchase
documents, which only fill in what the library does not know (store/catalog.learn)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.catalog import CatalogProduct, CatalogVariant, catalog_view, merged_names, with_names
from stockledger.domain.errors import not_found
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.products import MAX_BARCODE_CHARS, MAX_SKU_CHARS, MAX_VARIANTS
from stockledger.domain.text import without_nul
from stockledger.service import products
from stockledger.service.context import Actor
from stockledger.store import catalog, library
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim

MAX_TEXT_LEN = 255  # names of the catalog's own contract (the library takes 256)
IMPORT_USER_TYPE = "SYSTEM"


async def put_product(
    db: Database,
    actor: Actor,
    product_uuid: str,
    name: str,
    variants: list[CatalogVariant],
    claim: WriteClaim | None = None,
) -> CatalogProduct:
    """The product's name and exactly these variants (created in the library when missing; its other
    members kept); answers the stored entry."""
    stored = await products.change_product(
        db, actor, product_uuid, lambda found: with_names(found, product_uuid, name, variants), claim=claim
    )
    return catalog_view(stored)


async def get_product(db: Database, actor: Actor, product_uuid: str) -> CatalogProduct:
    found = await products.find_product(db, actor, product_uuid)
    if found is None:
        raise not_found(f"No catalog entry for product {product_uuid}")
    return catalog_view(found)


def _text(value: Any) -> str | None:
    """A usable name: a non-blank string without NUL characters (a purchase is recorded whatever its
    names hold, domain/text.py), cut to the column width; anything else is unknown."""
    if not isinstance(value, str):
        return None
    value = without_nul(value).strip()
    return value[:MAX_TEXT_LEN] or None


async def remember_from_purchase(conn: AsyncConnection, org: str, document: Mapping[str, Any]) -> int:
    """Fill in names from a Zettle purchase document's lines in the caller's transaction.

    Lines without valid product and variant UUIDs are ignored; a line never replaces what the
    library knows (store/catalog.learn). No event: the purchase's own events tell what happened.
    Returns the number of lines used.
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
        variant_entry = CatalogVariant(variant, _text(line.get("variantName")), _text(line.get("sku")))
        await catalog.learn(conn, org, product, _text(line.get("name")), [variant_entry], at_ms)
        used += 1
    return used


@dataclass(frozen=True)
class ImportRow:
    """One valid CSV row of `stockledger catalog import`."""

    product_uuid: str
    product_name: str | None
    variant: CatalogVariant | None
    line: int = 0  # in the file, for reports


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
        sku, barcode = _text(row.get("sku")), _text(row.get("barcode"))
        if sku is not None and len(sku) > MAX_SKU_CHARS:
            return f"sku is longer than {MAX_SKU_CHARS} characters"
        if barcode is not None and len(barcode) > MAX_BARCODE_CHARS:
            return f"barcode is longer than {MAX_BARCODE_CHARS} characters"
        variant = CatalogVariant(variant_uuid, _text(row.get("variantName")), sku, barcode)
    return ImportRow(product, _text(row.get("productName")), variant)


async def check_import(db: Database, org: str, rows: Sequence[ImportRow]) -> list[tuple[ImportRow, str]]:
    """What an import of `rows` would refuse, found before anything is written: a SKU given to two
    variants (in the file, or already held by another variant of the library — a later stocktake by
    SKU could not tell them apart), a variant of another product, a product past its 99 variants."""
    problems: list[tuple[ImportRow, str]] = []
    first_holder: dict[str, tuple[ImportRow, tuple[str, str]]] = {}
    first_product: dict[str, ImportRow] = {}
    for row in rows:
        if row.variant is None:
            continue
        owner = first_product.setdefault(row.variant.uuid, row)
        if owner.product_uuid != row.product_uuid:
            problems.append((row, f"variantUuid belongs to another product (line {owner.line})"))
        if row.variant.sku is None:
            continue
        key = (row.product_uuid, row.variant.uuid)
        earlier = first_holder.setdefault(row.variant.sku, (row, key))
        if earlier[1] != key:
            problems.append(
                (row, f"sku {row.variant.sku} is also given to another variant on line {earlier[0].line}")
            )
    variants = [r.variant.uuid for r in rows if r.variant is not None]
    skus = [r.variant.sku for r in rows if r.variant is not None and r.variant.sku is not None]

    async def work(conn: AsyncConnection) -> list[tuple[ImportRow, str]]:
        owners = await library.variant_owners(conn, org, variants)
        holders = await library.sku_holders(conn, org, skus)
        stored = await library.load(conn, org, {r.product_uuid for r in rows})
        found: list[tuple[ImportRow, str]] = []
        counts = {uuid: {v.uuid for v in product.variants} for uuid, product in stored.items()}
        for row in rows:
            if row.variant is None:
                continue
            key = (row.product_uuid, row.variant.uuid)
            if owners.get(row.variant.uuid, row.product_uuid) != row.product_uuid:
                found.append((row, "variantUuid belongs to another product"))
            others = holders.get(row.variant.sku or "", set()) - {key}
            if others:
                product, variant = sorted(others)[0]
                found.append(
                    (row, f"sku {row.variant.sku} already belongs to variant {variant} of product {product}")
                )
            known = counts.setdefault(row.product_uuid, set())
            known.add(row.variant.uuid)
            if len(known) == MAX_VARIANTS + 1:
                found.append((row, f"the product would have more than {MAX_VARIANTS} variants"))
        return found

    return sorted(problems + await db.read(work), key=lambda problem: problem[0].line)


async def import_rows(db: Database, org: str, rows: Iterable[ImportRow]) -> list[tuple[ImportRow, str]]:
    """Merge one batch of rows into the library in one transaction (a stored name is replaced, never
    erased), with one `ProductCreated` or `ProductUpdated` per product that changed. Returns the
    rows refused, with the reason: a variant of another product, or one past a product's 99."""
    batch = list(rows)
    actor = Actor(org, org, user_type=IMPORT_USER_TYPE)  # no user: the organization made the change
    by_product: dict[str, list[ImportRow]] = {}
    for row in batch:
        by_product.setdefault(row.product_uuid, []).append(row)

    async def work(uow: UnitOfWork) -> list[tuple[ImportRow, str]]:
        stored = await library.load(uow.conn, org, by_product)
        wanted_variants = [r.variant.uuid for r in batch if r.variant is not None]
        owners = await library.variant_owners(uow.conn, org, wanted_variants)
        refused: list[tuple[ImportRow, str]] = []
        for product_uuid, product_rows in by_product.items():
            before = stored.get(product_uuid)
            known = {v.uuid for v in before.variants} if before else set()
            name: str | None = None
            variants: list[CatalogVariant] = []
            for row in product_rows:
                variant = row.variant
                if variant is not None and owners.get(variant.uuid, product_uuid) != product_uuid:
                    refused.append((row, "variantUuid belongs to another product"))
                    continue
                if variant is not None and variant.uuid not in known and len(known) >= MAX_VARIANTS:
                    refused.append((row, f"the product has {MAX_VARIANTS} variants already"))
                    continue
                name = row.product_name or name
                if variant is not None:
                    known.add(variant.uuid)
                    owners[variant.uuid] = product_uuid  # a later row of the batch sees it taken
                    variants.append(variant)
            await products.save(uow, actor, before, merged_names(before, product_uuid, name, variants))
        return refused

    return await products.locked_write(db, actor, work, None)
