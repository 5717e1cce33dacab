"""The whole stock of a store as rows for a download: read in slices, one short read each, so a
slow download holds no transaction and memory does not grow with the store."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.locations import Location
from stockledger.service import organizations
from stockledger.service.backoffice import pick_store, store_locations
from stockledger.service.context import Actor
from stockledger.store import ui_queries
from stockledger.store.db import Database
from stockledger.store.ui_queries import StockRow

__all__ = ["EXPORT_SLICE_ROWS", "StockRow", "export_store", "stock_slices"]

EXPORT_SLICE_ROWS = 500  # rows per read: one index walk of the stock page's largest size


async def export_store(db: Database, actor: Actor, store_uuid: str | None) -> Location:
    """The store to export (the default one, or 404 for anything that is not a store)."""
    await organizations.ensure(db, actor.org)
    return pick_store(await store_locations(db, actor), store_uuid)


async def stock_slices(
    db: Database, actor: Actor, store: Location, *, query: str, query_uuid: str | None
) -> AsyncIterator[list[StockRow]]:
    """Every row the stock page lists for the search, in name order, a slice at a time.

    Name order, whatever the page's sort: its keys change only when a name does, so a sale while
    the file downloads cannot make a row appear twice or not at all (a balance order could: the
    row would move past the slice boundary). Each row shows its balance when its slice is read."""
    cursor: ui_queries.Cursor | None = None
    while True:

        async def work(
            conn: AsyncConnection, after: ui_queries.Cursor | None = cursor
        ) -> ui_queries.StockPage:
            return await ui_queries.stock_page(
                conn,
                actor.org,
                store.uuid,
                query=query,
                query_uuid=query_uuid,
                sort="name",
                cursor=after,
                limit=EXPORT_SLICE_ROWS,
            )

        page = await db.read(work)
        if page.rows:
            yield page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
