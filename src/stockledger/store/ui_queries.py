"""Read queries of the back office: a store's stock page, one variant's balances and ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.tables import balances, catalog_products, catalog_variants, movements, products

StockSort = Literal["name", "-name", "balance", "-balance"]
STOCK_SORTS: tuple[StockSort, ...] = ("name", "-name", "balance", "-balance")
MAX_PAGE_SIZE = 500  # a page is rendered as HTML; more rows than this help nobody


@dataclass(frozen=True)
class StockRow:
    product_uuid: str
    variant_uuid: str
    units: int
    product_name: str | None
    variant_name: str | None
    sku: str | None


@dataclass(frozen=True)
class StockPage:
    rows: list[StockRow]
    has_next: bool


def _search_clause(query: str, uuid: str | None) -> Any:
    if uuid is not None:
        return or_(balances.c.product_uuid == uuid, balances.c.variant_uuid == uuid)
    needle = query.lower()
    return or_(
        func.lower(catalog_products.c.name).contains(needle, autoescape=True),
        func.lower(catalog_variants.c.name).contains(needle, autoescape=True),
        func.lower(catalog_variants.c.sku).startswith(needle, autoescape=True),
        catalog_variants.c.barcode == query,
    )


async def stock_page(
    conn: AsyncConnection,
    org: str,
    location_uuid: str,
    *,
    query: str = "",
    query_uuid: str | None = None,
    sort: StockSort = "name",
    offset: int = 0,
    limit: int = 50,
) -> StockPage:
    """One page of the tracked balances of a location with their names.

    LIMIT/OFFSET over a total order (ties broken by the primary key, so pages never overlap);
    the balance order is served by ix_balances_org_location_units, the name order is a top-N sort.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    stmt = (
        select(
            balances.c.product_uuid,
            balances.c.variant_uuid,
            balances.c.units,
            catalog_products.c.name,
            catalog_variants.c.name,
            catalog_variants.c.sku,
        )
        .select_from(
            balances.join(
                products,
                and_(
                    products.c.org_uuid == balances.c.org_uuid,
                    products.c.product_uuid == balances.c.product_uuid,
                ),
            )
            .outerjoin(
                catalog_products,
                and_(
                    catalog_products.c.org_uuid == balances.c.org_uuid,
                    catalog_products.c.product_uuid == balances.c.product_uuid,
                ),
            )
            .outerjoin(
                catalog_variants,
                and_(
                    catalog_variants.c.org_uuid == balances.c.org_uuid,
                    catalog_variants.c.product_uuid == balances.c.product_uuid,
                    catalog_variants.c.variant_uuid == balances.c.variant_uuid,
                ),
            )
        )
        .where(
            balances.c.org_uuid == org,
            balances.c.location_uuid == location_uuid,
            products.c.tracked.is_(True),
        )
    )
    if query or query_uuid:
        stmt = stmt.where(_search_clause(query, query_uuid))
    keys = [balances.c.product_uuid, balances.c.variant_uuid]
    if sort in ("balance", "-balance"):
        units = balances.c.units.desc() if sort == "-balance" else balances.c.units.asc()
        stmt = stmt.order_by(units, *keys)
    else:
        unnamed = catalog_products.c.name.is_(None)  # products without a name come last either way
        names = [catalog_products.c.name, catalog_variants.c.name]
        ordered = [n.desc() for n in names] if sort == "-name" else [n.asc() for n in names]
        stmt = stmt.order_by(unnamed, *ordered, *keys)
    rows = (await conn.execute(stmt.limit(limit + 1).offset(max(0, offset)))).all()
    page = [StockRow(r[0], r[1], int(r[2]), r[3], r[4], r[5]) for r in rows[:limit]]
    return StockPage(page, len(rows) > limit)


@dataclass(frozen=True)
class VariantNames:
    product_name: str | None
    variant_name: str | None
    sku: str | None
    barcode: str | None


async def variant_names(conn: AsyncConnection, org: str, product: str, variant: str) -> VariantNames:
    product_name = await conn.scalar(
        select(catalog_products.c.name).where(
            catalog_products.c.org_uuid == org, catalog_products.c.product_uuid == product
        )
    )
    row = (
        await conn.execute(
            select(catalog_variants.c.name, catalog_variants.c.sku, catalog_variants.c.barcode).where(
                catalog_variants.c.org_uuid == org,
                catalog_variants.c.product_uuid == product,
                catalog_variants.c.variant_uuid == variant,
            )
        )
    ).first()
    if row is None:
        return VariantNames(product_name, None, None, None)
    return VariantNames(product_name, row[0], row[1], row[2])


async def is_tracked(conn: AsyncConnection, org: str, product: str) -> bool:
    value = await conn.scalar(
        select(products.c.tracked).where(products.c.org_uuid == org, products.c.product_uuid == product)
    )
    return bool(value)


async def variant_balances(conn: AsyncConnection, org: str, product: str, variant: str) -> dict[str, int]:
    """location UUID → units of this variant (locations without a balance row are absent)."""
    stmt = select(balances.c.location_uuid, balances.c.units).where(
        balances.c.org_uuid == org, balances.c.product_uuid == product, balances.c.variant_uuid == variant
    )
    return {loc: int(units) for loc, units in (await conn.execute(stmt)).all()}


@dataclass(frozen=True)
class MovementRow:
    seq: int
    uuid: str
    from_location: str
    to_location: str
    units: int
    external_uuid: str | None
    source: str
    actor: str | None
    created_ms: int


@dataclass(frozen=True)
class MovementPage:
    rows: list[MovementRow]
    next_before: int | None  # pass as `before` for the next (older) page


_MOVEMENT_COLUMNS = (
    movements.c.seq,
    movements.c.uuid,
    movements.c.from_location_uuid,
    movements.c.to_location_uuid,
    movements.c.units,
    movements.c.external_uuid,
    movements.c.source,
    movements.c.actor,
    movements.c.created_ms,
)


def _movement(row: Any) -> MovementRow:
    return MovementRow(int(row[0]), row[1], row[2], row[3], int(row[4]), row[5], row[6], row[7], int(row[8]))


async def variant_movements(
    conn: AsyncConnection,
    org: str,
    product: str,
    variant: str,
    *,
    before_seq: int | None = None,
    limit: int = 25,
    location_uuid: str | None = None,
) -> MovementPage:
    """The variant's ledger, newest first, keyset-paged on the sequence (ix_movements_org_variant_seq)."""
    stmt = select(*_MOVEMENT_COLUMNS).where(
        movements.c.org_uuid == org, movements.c.product_uuid == product, movements.c.variant_uuid == variant
    )
    if before_seq is not None:
        stmt = stmt.where(movements.c.seq < before_seq)
    if location_uuid is not None:
        stmt = stmt.where(
            or_(
                movements.c.from_location_uuid == location_uuid, movements.c.to_location_uuid == location_uuid
            )
        )
    rows = [
        _movement(r)
        for r in (await conn.execute(stmt.order_by(movements.c.seq.desc()).limit(limit + 1))).all()
    ]
    page = rows[:limit]
    return MovementPage(page, page[-1].seq if len(rows) > limit else None)
