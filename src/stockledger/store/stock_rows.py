"""The reads behind Inventory API v3 stock rows: tracked balances of one location joined with their
low-stock settings, in (product, variant) order, by keyset page or for chosen products.

Every statement walks the balances' primary key (org, location, product, variant) from a position,
joining each row by primary key to its product (tracked?) and its low-stock setting, so a page costs
the rows it returns whatever the location's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.stock_rows import StockRecord
from stockledger.store.sql import chunked
from stockledger.store.tables import balances, low_stock_levels, products

_b = balances.c
_l = low_stock_levels.c
_p = products.c


def _rows(*, from_product: Any = None) -> Select[Any]:
    """The tracked balances of one location with their settings, by product then variant.

    Tracking is tested per row (EXISTS on the product's primary key) rather than joined: SQLite
    would otherwise build a Bloom filter over every product of the organization for each page.
    `from_product` bounds the product and setting lookups to the page's range as well: PostgreSQL
    does not carry the balances' keyset bound over to them, and a merge join would otherwise walk
    every product (and sort every setting) before the position, on every page."""
    tracked = and_(_p.org_uuid == _b.org_uuid, _p.product_uuid == _b.product_uuid, _p.tracked.is_(True))
    settings_on = and_(
        _l.org_uuid == _b.org_uuid,
        _l.location_uuid == _b.location_uuid,
        _l.product_uuid == _b.product_uuid,
        _l.variant_uuid == _b.variant_uuid,
    )
    if from_product is not None:
        tracked = and_(tracked, _p.product_uuid >= from_product)
        settings_on = and_(settings_on, _l.product_uuid >= from_product)
    return (
        select(
            _b.product_uuid, _b.variant_uuid, _b.units, _b.updated_ms, _l.level_units, _l.alert, _l.updated_ms
        )
        .select_from(balances.outerjoin(low_stock_levels, settings_on))
        .where(
            _b.org_uuid == bindparam("org"),
            _b.location_uuid == bindparam("location"),
            exists().where(tracked),
        )
        .order_by(_b.product_uuid, _b.variant_uuid)
    )


_LIMIT = bindparam("limit", type_=Integer)
_FIRST_PAGE = _rows().limit(_LIMIT)
_NEXT_PAGE = (
    _rows(from_product=bindparam("product"))
    .where(tuple_(_b.product_uuid, _b.variant_uuid) > tuple_(bindparam("product"), bindparam("variant")))
    .limit(_LIMIT)
)
_OF_PRODUCTS = _rows().where(_b.product_uuid.in_(bindparam("products", expanding=True)))


def _records(result: Any) -> Sequence[StockRecord]:
    # Both drivers hand BIGINT columns over as int and the Boolean as bool: the rows are used as
    # they come (`tuples()` only types them), no object is built per row.
    records: Sequence[StockRecord] = result.tuples().all()
    return records


async def page(
    conn: AsyncConnection, org: str, location_uuid: str, *, after: tuple[str, str] | None, limit: int
) -> Sequence[StockRecord]:
    """At most `limit` rows of the location's tracked balances after the (product, variant) `after`."""
    params: dict[str, Any] = {"org": org, "location": location_uuid, "limit": limit}
    if after is None:
        return _records(await conn.execute(_FIRST_PAGE, params))
    params.update(product=after[0], variant=after[1])
    return _records(await conn.execute(_NEXT_PAGE, params))


async def of_products(
    conn: AsyncConnection, org: str, location_uuid: str, product_uuids: Iterable[str]
) -> list[StockRecord]:
    """Every tracked balance of the given products in the location, by product then variant."""
    rows: list[StockRecord] = []
    # Sorted chunks: their answers concatenate in product order.
    for part in chunked(sorted(set(product_uuids))):
        params = {"org": org, "location": location_uuid, "products": list(part)}
        rows.extend(_records(await conn.execute(_OF_PRODUCTS, params)))
    return rows
