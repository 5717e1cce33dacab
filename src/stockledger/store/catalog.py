"""Catalog names: product and variant names, SKUs and barcodes the back office shows beside UUIDs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.catalog import CatalogProduct, CatalogVariant
from stockledger.store.sql import upsert
from stockledger.store.tables import catalog_products, catalog_variants

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


async def merge_product(
    conn: AsyncConnection, org: str, product_uuid: str, name: str | None, at_ms: int
) -> None:
    """Create the product entry, or set its name when one is given (None keeps the stored name)."""
    stmt = upsert(conn, catalog_products).values(
        org_uuid=org, product_uuid=product_uuid, name=name, updated_ms=at_ms
    )
    if name is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["org_uuid", "product_uuid"])
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=["org_uuid", "product_uuid"], set_={"name": name, "updated_ms": at_ms}
        )
    await conn.execute(stmt)
    if name is not None:
        await refresh_sort_keys(conn, org, product_uuid)


async def merge_variants(
    conn: AsyncConnection, org: str, product_uuid: str, variants: Sequence[CatalogVariant], at_ms: int
) -> None:
    """Upsert variants; a None field keeps what is stored (a purchase line knows no barcode)."""
    for variant in variants:
        given = {
            key: value
            for key, value in (("name", variant.name), ("sku", variant.sku), ("barcode", variant.barcode))
            if value is not None
        }
        stmt = upsert(conn, catalog_variants).values(
            org_uuid=org,
            product_uuid=product_uuid,
            variant_uuid=variant.uuid,
            name=variant.name,
            sku=variant.sku,
            barcode=variant.barcode,
            updated_ms=at_ms,
        )
        keys = ["org_uuid", "product_uuid", "variant_uuid"]
        if given:
            stmt = stmt.on_conflict_do_update(index_elements=keys, set_={**given, "updated_ms": at_ms})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        await conn.execute(stmt)
    if variants:
        await refresh_sort_keys(conn, org, product_uuid)


async def replace_product(
    conn: AsyncConnection,
    org: str,
    product_uuid: str,
    name: str,
    variants: Sequence[CatalogVariant],
    at_ms: int,
) -> None:
    """PUT semantics: the product's name and exactly the given variants (others are removed)."""
    await merge_product(conn, org, product_uuid, name, at_ms)
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
                }
                for v in variants
            ],
        )


async def get_product(conn: AsyncConnection, org: str, product_uuid: str) -> CatalogProduct | None:
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
            .order_by(catalog_variants.c.variant_uuid)
        )
    ).all()
    return CatalogProduct(product_uuid, name_row[0], [CatalogVariant(*row) for row in rows])
