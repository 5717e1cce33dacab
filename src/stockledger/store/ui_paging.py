"""Where a stock page sits in its order: how many rows match, how many come before the page, and
where the page before it starts (keyset pages have no page numbers of their own)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.backoffice import StockSort
from stockledger.store.tables import balances, catalog_variants, products
from stockledger.store.ui_queries import (
    Cursor,
    _in_store,
    _named,
    _search_balances,
    _text_match,
    _tracked,
)


def _tracked_products(org: str) -> Any:
    """The organization's tracked products, as an IN list: counts visit every row, and both engines
    probe a list built once faster than they run an EXISTS per row (half the time on SQLite)."""
    return select(products.c.product_uuid).where(products.c.org_uuid == org, products.c.tracked.is_(True))


def _balances_matching(org: str, location_uuid: str, query: str, query_uuid: str | None) -> Any:
    """Count the tracked balances of the location that the search matches (no search: all)."""
    b = balances
    stmt = (
        select(func.count())
        .select_from(b)
        .where(
            b.c.org_uuid == org,
            b.c.location_uuid == location_uuid,
            b.c.product_uuid.in_(_tracked_products(org)),
        )
    )
    return _search_balances(stmt, query, query_uuid)


def _named_matching(
    org: str, location_uuid: str, query: str, query_uuid: str | None, *columns: Any, counting: bool = False
) -> Any:
    """The named catalog variants with a tracked balance in the location that the search matches.
    A walk (`counting` False) keeps the stock page's EXISTS form, which lets it stop early."""
    cv = catalog_variants
    in_store = (
        and_(cv.c.product_uuid.in_(_tracked_products(org)), _in_store(org, location_uuid, cv, tracked=False))
        if counting
        else _in_store(org, location_uuid, cv)
    )
    stmt = select(*columns).where(cv.c.org_uuid == org, cv.c.sort_key.is_not(None), in_store)
    if query_uuid is not None:
        return stmt.where(or_(cv.c.product_uuid == query_uuid, cv.c.variant_uuid == query_uuid))
    if query:
        return stmt.where(_text_match(cv, query))
    return stmt


def _unnamed_matching(org: str, location_uuid: str, query: str, query_uuid: str | None, *columns: Any) -> Any:
    b = balances
    stmt = select(*columns).where(
        b.c.org_uuid == org, b.c.location_uuid == location_uuid, _tracked(b), ~_named(b)
    )
    return _search_balances(stmt, query, query_uuid)


async def stock_count(
    conn: AsyncConnection, org: str, location_uuid: str, *, query: str = "", query_uuid: str | None = None
) -> int:
    """How many rows the stock page lists in all (every page together)."""
    return int(await conn.scalar(_balances_matching(org, location_uuid, query, query_uuid)) or 0)


def _balance_keys() -> tuple[Any, Any, Any]:
    return (balances.c.units, balances.c.product_uuid, balances.c.variant_uuid)


async def rows_before(
    conn: AsyncConnection,
    org: str,
    location_uuid: str,
    *,
    sort: StockSort,
    cursor: Cursor | None,
    query: str = "",
    query_uuid: str | None = None,
) -> int:
    """How many rows come before the page that starts after `cursor` (0 for the first page)."""
    if cursor is None:
        return 0
    b, cv = balances, catalog_variants
    count = func.count()
    if sort != "name":
        if cursor[0] != "b":
            return 0
        keys = tuple_(*_balance_keys())
        at_or_before = keys >= tuple_(*cursor[1:]) if sort == "-balance" else keys <= tuple_(*cursor[1:])
        stmt = _balances_matching(org, location_uuid, query, query_uuid).where(at_or_before)
        return int(await conn.scalar(stmt) or 0)
    if cursor[0] == "n":
        stmt = _named_matching(org, location_uuid, query, query_uuid, count, counting=True).where(
            tuple_(cv.c.sort_key, cv.c.product_uuid, cv.c.variant_uuid) <= tuple_(*cursor[1:])
        )
        return int(await conn.scalar(stmt) or 0)
    if cursor[0] != "u":
        return 0
    named = await conn.scalar(_named_matching(org, location_uuid, query, query_uuid, count, counting=True))
    unnamed = await conn.scalar(
        _unnamed_matching(org, location_uuid, query, query_uuid, count).where(
            tuple_(b.c.product_uuid, b.c.variant_uuid) <= tuple_(*cursor[1:])
        )
    )
    return int(named or 0) + int(unnamed or 0)


async def previous_cursor(
    conn: AsyncConnection,
    org: str,
    location_uuid: str,
    *,
    sort: StockSort,
    cursor: Cursor | None,
    limit: int,
    query: str = "",
    query_uuid: str | None = None,
) -> Cursor | None:
    """Where the page before the one after `cursor` starts: the row `limit` + 1 places back from
    `cursor` (the last row of the page before), walking the order backwards; None = the first page.
    A backward index walk of `limit` rows, so it costs what a page costs."""
    if cursor is None:
        return None
    b, cv = balances, catalog_variants
    if sort != "name":
        if cursor[0] != "b":
            return None
        keys = _balance_keys()
        descending = sort == "-balance"
        at_or_before = (
            tuple_(*keys) >= tuple_(*cursor[1:]) if descending else tuple_(*keys) <= tuple_(*cursor[1:])
        )
        stmt = (
            _search_balances(
                select(*keys).where(b.c.org_uuid == org, b.c.location_uuid == location_uuid, _tracked(b)),
                query,
                query_uuid,
            )
            .where(at_or_before)
            .order_by(*(k.asc() if descending else k.desc() for k in keys))
            .offset(limit)
            .limit(1)
        )
        row = (await conn.execute(stmt)).first()
        return ("b", *row) if row else None
    named_keys = (cv.c.sort_key, cv.c.product_uuid, cv.c.variant_uuid)
    back = limit  # rows still to step over before the wanted one
    if cursor[0] == "u":
        unnamed_keys = (b.c.product_uuid, b.c.variant_uuid)
        stmt = (
            _unnamed_matching(org, location_uuid, query, query_uuid, *unnamed_keys)
            .where(tuple_(*unnamed_keys) <= tuple_(*cursor[1:]))
            .order_by(*(k.desc() for k in unnamed_keys))
            .limit(limit + 1)
        )
        stepped = (await conn.execute(stmt)).all()
        if len(stepped) > limit:
            return ("u", *stepped[limit])
        back = limit - len(stepped)  # the rest of the way runs through the named rows, from the last
        position = None
    elif cursor[0] == "n":
        position = tuple_(*named_keys) <= tuple_(*cursor[1:])
    else:
        return None
    stmt = _named_matching(org, location_uuid, query, query_uuid, *named_keys)
    if position is not None:
        stmt = stmt.where(position)
    stmt = stmt.order_by(*(k.desc() for k in named_keys)).offset(back).limit(1)
    row = (await conn.execute(stmt)).first()
    return ("n", *row) if row else None
