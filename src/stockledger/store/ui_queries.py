"""Read queries of the back office: a store's stock page, one variant's balances and ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from stockledger.domain.backoffice import StockSort, VariantNames
from stockledger.store import ledger_rows
from stockledger.store.ledger_rows import MovementRow
from stockledger.store.tables import balances, catalog_products, catalog_variants, products

MAX_PAGE_SIZE = 500  # a page is rendered as HTML; more rows than this help nobody
NAMES_BATCH = 500  # product UUIDs per IN list (well under SQLite's and asyncpg's parameter limits)

# A keyset position: ("n", sort_key, product, variant) among named variants, ("u", product, variant)
# among unnamed ones (listed after the named ones), ("b", units, product, variant) in balance order.
Cursor = tuple[Any, ...]


@dataclass(frozen=True)
class StockRow:
    product_uuid: str
    variant_uuid: str
    units: int
    product_name: str | None
    variant_name: str | None
    sku: str | None
    barcode: str | None = None


@dataclass(frozen=True)
class StockPage:
    rows: list[StockRow]
    next_cursor: Cursor | None


def _tracked(b: Any) -> Any:
    """EXISTS: the balance's product is tracked (a semi-join the planners run as one index probe)."""
    return (
        select(products.c.product_uuid)
        .where(
            products.c.org_uuid == b.c.org_uuid,
            products.c.product_uuid == b.c.product_uuid,
            products.c.tracked.is_(True),
        )
        .exists()
    )


def _in_store(org: str, location_uuid: str, cv: Any, *, tracked: bool = True) -> Any:
    """EXISTS: the catalog variant has a balance in the location, and (`tracked`) its product is
    tracked; without `tracked` the caller checks tracking itself."""
    b = balances
    conditions = [
        b.c.org_uuid == org,
        b.c.location_uuid == location_uuid,
        b.c.product_uuid == cv.c.product_uuid,
        b.c.variant_uuid == cv.c.variant_uuid,
    ]
    if tracked:
        conditions.append(_tracked(b))
    return select(b.c.variant_uuid).where(*conditions).exists()


def _text_match(cv: Any, query: str) -> Any:
    return or_(
        cv.c.sort_key.contains(query.casefold(), autoescape=True),
        func.lower(cv.c.sku).startswith(query.lower(), autoescape=True),
        cv.c.barcode == query,
    )


def _named(b: Any) -> Any:
    """EXISTS: the balance's variant has a catalog entry with a sort key (it is listed by name)."""
    cv = aliased(catalog_variants)
    return (
        select(cv.c.variant_uuid)
        .where(
            cv.c.org_uuid == b.c.org_uuid,
            cv.c.product_uuid == b.c.product_uuid,
            cv.c.variant_uuid == b.c.variant_uuid,
            cv.c.sort_key.is_not(None),
        )
        .exists()
    )


def _search_balances(stmt: Any, query: str, query_uuid: str | None) -> Any:
    b = balances
    if query_uuid is not None:
        return stmt.where(or_(b.c.product_uuid == query_uuid, b.c.variant_uuid == query_uuid))
    if query:
        cv = aliased(catalog_variants)
        match = (
            select(cv.c.variant_uuid)
            .where(
                cv.c.org_uuid == b.c.org_uuid,
                cv.c.product_uuid == b.c.product_uuid,
                cv.c.variant_uuid == b.c.variant_uuid,
                _text_match(cv, query),
            )
            .exists()
        )
        return stmt.where(match)
    return stmt


async def _details(
    conn: AsyncConnection, org: str, location_uuid: str, keys: list[tuple[str, str]]
) -> list[StockRow]:
    """Balances and names of the page's keys, in the order given (a handful of primary-key probes)."""
    if not keys:
        return []
    b, cv, cp = balances, catalog_variants, catalog_products
    stmt = (
        select(b.c.product_uuid, b.c.variant_uuid, b.c.units, cp.c.name, cv.c.name, cv.c.sku, cv.c.barcode)
        .select_from(
            b.outerjoin(
                cv,
                and_(
                    cv.c.org_uuid == b.c.org_uuid,
                    cv.c.product_uuid == b.c.product_uuid,
                    cv.c.variant_uuid == b.c.variant_uuid,
                ),
            ).outerjoin(cp, and_(cp.c.org_uuid == b.c.org_uuid, cp.c.product_uuid == b.c.product_uuid))
        )
        .where(
            b.c.org_uuid == org,
            b.c.location_uuid == location_uuid,
            # Two plain IN lists (not a row-value IN): both engines probe the primary key with them.
            # The answer may hold extra pairs of the cross product; only the asked keys are kept.
            b.c.product_uuid.in_(sorted({p for p, _ in keys})),
            b.c.variant_uuid.in_(sorted({v for _, v in keys})),
        )
    )
    found = {
        (r[0], r[1]): StockRow(r[0], r[1], int(r[2]), r[3], r[4], r[5], r[6])
        for r in (await conn.execute(stmt)).all()
    }
    return [found[key] for key in keys if key in found]


async def stock_page(
    conn: AsyncConnection,
    org: str,
    location_uuid: str,
    *,
    query: str = "",
    query_uuid: str | None = None,
    sort: StockSort = "name",
    cursor: Cursor | None = None,
    limit: int = 50,
) -> StockPage:
    """One page of the tracked balances of a location with their names, after `cursor`.

    Keyset paging on an index walk: the name order follows ix_catalog_variants_org_sort, then the
    unnamed variants in key order; the balance order follows ix_balances_org_location_units. Each
    step is written as EXISTS probes so both SQLite and PostgreSQL walk the index and stop at the
    page's end instead of joining every row first. The page's names come in a second small query.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    b, cv = balances, catalog_variants
    if sort != "name":
        descending = sort == "-balance"
        keys = (b.c.units, b.c.product_uuid, b.c.variant_uuid)
        stmt = select(*keys).where(b.c.org_uuid == org, b.c.location_uuid == location_uuid, _tracked(b))
        stmt = _search_balances(stmt, query, query_uuid)
        if cursor is not None and cursor[0] == "b":
            position = (
                tuple_(*keys) < tuple_(*cursor[1:]) if descending else tuple_(*keys) > tuple_(*cursor[1:])
            )
            stmt = stmt.where(position)
        stmt = stmt.order_by(*(k.desc() if descending else k.asc() for k in keys)).limit(limit + 1)
        found = (await conn.execute(stmt)).all()
        rows = await _details(conn, org, location_uuid, [(r[1], r[2]) for r in found[:limit]])
        after = ("b", *found[limit - 1]) if len(found) > limit else None
        return StockPage(rows, after)

    ordered: list[tuple[str, str, str | None]] = []  # (product, variant, sort key) in page order
    if cursor is None or cursor[0] == "n":
        named = select(cv.c.product_uuid, cv.c.variant_uuid, cv.c.sort_key).where(
            cv.c.org_uuid == org, cv.c.sort_key.is_not(None), _in_store(org, location_uuid, cv)
        )
        if query_uuid is not None:
            named = named.where(or_(cv.c.product_uuid == query_uuid, cv.c.variant_uuid == query_uuid))
        elif query:
            named = named.where(_text_match(cv, query))
        if cursor is not None:
            named = named.where(
                tuple_(cv.c.sort_key, cv.c.product_uuid, cv.c.variant_uuid) > tuple_(*cursor[1:])
            )
        named = named.order_by(cv.c.sort_key, cv.c.product_uuid, cv.c.variant_uuid).limit(limit + 1)
        ordered = [(r[0], r[1], r[2]) for r in (await conn.execute(named)).all()]
    if len(ordered) <= limit:
        # The unnamed variants follow the named ones, in key order.
        unnamed = select(b.c.product_uuid, b.c.variant_uuid).where(
            b.c.org_uuid == org,
            b.c.location_uuid == location_uuid,
            _tracked(b),
            ~_named(b),
        )
        unnamed = _search_balances(unnamed, query, query_uuid)
        if cursor is not None and cursor[0] == "u":
            unnamed = unnamed.where(tuple_(b.c.product_uuid, b.c.variant_uuid) > tuple_(*cursor[1:]))
        unnamed = unnamed.order_by(b.c.product_uuid, b.c.variant_uuid).limit(limit - len(ordered) + 1)
        ordered += [(r[0], r[1], None) for r in (await conn.execute(unnamed)).all()]
    page = ordered[:limit]
    rows = await _details(conn, org, location_uuid, [(p, v) for p, v, _ in page])
    after = None
    if len(ordered) > limit:
        p, v, key = page[-1]
        after = ("n", key, p, v) if key is not None else ("u", p, v)
    return StockPage(rows, after)


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


async def names_of(
    conn: AsyncConnection, org: str, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], VariantNames]:
    """(product, variant) → names, SKU and barcode, for the keys the catalog knows."""
    cv, cp = catalog_variants, catalog_products
    wanted = set(keys)
    found: dict[tuple[str, str], VariantNames] = {}
    products_ = sorted({p for p, _ in wanted})
    for start in range(0, len(products_), NAMES_BATCH):
        stmt = (
            select(cv.c.product_uuid, cv.c.variant_uuid, cp.c.name, cv.c.name, cv.c.sku, cv.c.barcode)
            .select_from(
                cv.outerjoin(cp, and_(cp.c.org_uuid == cv.c.org_uuid, cp.c.product_uuid == cv.c.product_uuid))
            )
            .where(cv.c.org_uuid == org, cv.c.product_uuid.in_(products_[start : start + NAMES_BATCH]))
        )
        for p, v, pname, vname, sku, barcode in (await conn.execute(stmt)).all():
            if (p, v) in wanted:
                found[(p, v)] = VariantNames(pname, vname, sku, barcode)
    return found


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
class MovementPage:
    rows: list[MovementRow]
    next_before: int | None  # pass as `before` for the next (older) page


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
    rows = await ledger_rows.newest_first(
        conn,
        org,
        limit=limit + 1,
        product_uuid=product,
        variant_uuid=variant,
        location_uuid=location_uuid,
        before_seq=before_seq,
    )
    page = rows[:limit]
    return MovementPage(page, page[-1].seq if len(rows) > limit else None)
