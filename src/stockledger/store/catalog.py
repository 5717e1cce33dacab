"""Names of library products and variants as the back office and the catalog extension see them,
the stock page's name order, and the names learnt from purchase lines.

The tables are the Product Library's (store/library.py writes whole products); what is here touches
only names, SKUs and barcodes, and keeps every row a valid library row (etag, creation time, order).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.catalog import CatalogProduct, CatalogVariant
from stockledger.domain.products import MAX_BARCODE_CHARS, MAX_SKU_CHARS, MAX_VARIANTS, new_etag
from stockledger.store.sql import upsert
from stockledger.store.tables import catalog_products, catalog_variants

__all__ = ["CatalogProduct", "CatalogVariant", "get_product", "learn", "replace_product", "sort_key"]

SORT_SEPARATOR = "\x1f"  # sorts below every printable character: "Mug" + variant before "Mug 2"


def sort_key(product_name: str | None, variant_name: str | None) -> str | None:
    """The stock page's name order: case-insensitive product name, then variant name."""
    if not product_name:
        return None
    return product_name.casefold() + SORT_SEPARATOR + (variant_name or "").casefold()


async def refresh_sort_keys(conn: AsyncConnection, org: str, product_uuid: str) -> None:
    """Recompute the sort keys of a product's variants after its name or theirs changed."""
    name = await conn.scalar(
        select(catalog_products.c.name).where(
            catalog_products.c.org_uuid == org, catalog_products.c.product_uuid == product_uuid
        )
    )
    rows = (
        await conn.execute(
            select(
                catalog_variants.c.variant_uuid, catalog_variants.c.name, catalog_variants.c.sort_key
            ).where(catalog_variants.c.org_uuid == org, catalog_variants.c.product_uuid == product_uuid)
        )
    ).all()
    for variant_uuid, variant_name, stored in rows:
        wanted = sort_key(name, variant_name)
        if wanted != stored:
            await conn.execute(
                update(catalog_variants)
                .where(
                    catalog_variants.c.org_uuid == org,
                    catalog_variants.c.product_uuid == product_uuid,
                    catalog_variants.c.variant_uuid == variant_uuid,
                )
                .values(sort_key=wanted)
            )


async def _ensure_product(conn: AsyncConnection, org: str, product_uuid: str, at_ms: int) -> bool:
    """Create an empty library product (no name, no variants) unless it exists; True when created."""
    stmt = (
        upsert(conn, catalog_products)
        .values(
            org_uuid=org,
            product_uuid=product_uuid,
            name=None,
            updated_ms=at_ms,
            created_ms=at_ms,
            etag=new_etag(),
        )
        .on_conflict_do_nothing(index_elements=["org_uuid", "product_uuid"])
        .returning(catalog_products.c.product_uuid)
    )
    return (await conn.execute(stmt)).first() is not None


async def _touch(conn: AsyncConnection, org: str, product_uuid: str, at_ms: int) -> None:
    """A changed product gets a new etag (spec §1.5)."""
    await conn.execute(
        update(catalog_products)
        .where(catalog_products.c.org_uuid == org, catalog_products.c.product_uuid == product_uuid)
        .values(etag=new_etag(), updated_ms=at_ms)
    )


async def learn(
    conn: AsyncConnection,
    org: str,
    product_uuid: str,
    name: str | None,
    variants: Sequence[CatalogVariant],
    at_ms: int,
) -> None:
    """Fill in what the library does not know yet from a purchase line: the product (created when
    missing), its name when it has none, its variants (added when missing) and their empty name,
    SKU and barcode. Never overwrites: a purchase line carries the names of the moment of the sale,
    the library's own are the merchant's. A variant that belongs to another product is left alone,
    as is a SKU or barcode longer than the library takes, or a 100th variant."""
    changed = await _ensure_product(conn, org, product_uuid, at_ms)
    if name is not None:
        named = await conn.execute(
            update(catalog_products)
            .where(
                catalog_products.c.org_uuid == org,
                catalog_products.c.product_uuid == product_uuid,
                catalog_products.c.name.is_(None),
            )
            .values(name=name)
        )
        changed = changed or named.rowcount > 0
    cv = catalog_variants
    for variant in variants:
        sku = variant.sku if variant.sku is None or len(variant.sku) <= MAX_SKU_CHARS else None
        barcode = (
            variant.barcode if variant.barcode is None or len(variant.barcode) <= MAX_BARCODE_CHARS else None
        )
        owner = await conn.scalar(
            select(cv.c.product_uuid).where(cv.c.org_uuid == org, cv.c.variant_uuid == variant.uuid).limit(1)
        )
        if owner is None:
            count, position = (
                await conn.execute(
                    select(func.count(), func.coalesce(func.max(cv.c.position) + 1, 0)).where(
                        cv.c.org_uuid == org, cv.c.product_uuid == product_uuid
                    )
                )
            ).one()
            if count >= MAX_VARIANTS:
                continue
            await conn.execute(
                cv.insert().values(
                    org_uuid=org,
                    product_uuid=product_uuid,
                    variant_uuid=variant.uuid,
                    name=variant.name,
                    sku=sku,
                    barcode=barcode,
                    updated_ms=at_ms,
                    position=int(position or 0),
                )
            )
            changed = True
            continue
        if owner != product_uuid:
            continue
        key = (cv.c.org_uuid == org, cv.c.product_uuid == product_uuid, cv.c.variant_uuid == variant.uuid)
        for column, value in ((cv.c.name, variant.name), (cv.c.sku, sku), (cv.c.barcode, barcode)):
            if value is not None:
                filled = await conn.execute(
                    update(cv).where(*key, column.is_(None)).values({column.name: value, "updated_ms": at_ms})
                )
                changed = changed or filled.rowcount > 0
    if changed:
        await _touch(conn, org, product_uuid, at_ms)
        await refresh_sort_keys(conn, org, product_uuid)


async def replace_product(
    conn: AsyncConnection,
    org: str,
    product_uuid: str,
    name: str,
    variants: Sequence[CatalogVariant],
    at_ms: int,
) -> None:
    """Names only: the product's name and exactly the given variants, with their names, SKUs and
    barcodes (no events; the library's writers are service/products.py)."""
    await _ensure_product(conn, org, product_uuid, at_ms)
    await conn.execute(
        update(catalog_products)
        .where(catalog_products.c.org_uuid == org, catalog_products.c.product_uuid == product_uuid)
        .values(name=name)
    )
    await _touch(conn, org, product_uuid, at_ms)
    await conn.execute(
        delete(catalog_variants).where(
            catalog_variants.c.org_uuid == org, catalog_variants.c.product_uuid == product_uuid
        )
    )
    if variants:
        await conn.execute(
            catalog_variants.insert(),
            [
                {
                    "org_uuid": org,
                    "product_uuid": product_uuid,
                    "variant_uuid": v.uuid,
                    "name": v.name,
                    "sku": v.sku,
                    "barcode": v.barcode,
                    "updated_ms": at_ms,
                    "sort_key": sort_key(name, v.name),
                    "position": position,
                }
                for position, v in enumerate(variants)
            ],
        )


async def get_product(conn: AsyncConnection, org: str, product_uuid: str) -> CatalogProduct | None:
    """The names of a library product and of its variants, in the product's variant order."""
    name_row = (
        await conn.execute(
            select(catalog_products.c.name).where(
                catalog_products.c.org_uuid == org, catalog_products.c.product_uuid == product_uuid
            )
        )
    ).first()
    if name_row is None:
        return None
    rows = (
        await conn.execute(
            select(
                catalog_variants.c.variant_uuid,
                catalog_variants.c.name,
                catalog_variants.c.sku,
                catalog_variants.c.barcode,
            )
            .where(catalog_variants.c.org_uuid == org, catalog_variants.c.product_uuid == product_uuid)
            .order_by(catalog_variants.c.position, catalog_variants.c.variant_uuid)
        )
    ).all()
    return CatalogProduct(product_uuid, name_row[0], [CatalogVariant(*row) for row in rows])
