"""Location fetches beyond Zettle (spec §8): point in time (`asOf`), keyset pages and streamed lists.

A fetch is prepared first (location resolved, `latest` and `trackedProducts` read; every error is
raised here, before a byte is sent) and its variants are then read either as one page or as a
stream of chunks from a server-side cursor, so memory does not grow with the number of variants.
The stream holds a pooled connection until it ends: its reader writes the chunks to a spool at the
database's pace and sends the answer only afterwards (api/fetch.py), never while a client reads.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, func, literal_column, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.locations import Location
from stockledger.service import cursors, organizations
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, Since, records, resolve_location
from stockledger.service.results import BalanceRecord, LocationInventory
from stockledger.store import balances, locations, orgs, products
from stockledger.store.balances import BalanceRow
from stockledger.store.db import Database
from stockledger.store.tables import balances as balances_table
from stockledger.store.tables import movements
from stockledger.store.tables import products as products_table

MAX_PAGE_LIMIT = 10_000  # a page is one response body held in memory; larger lists are streamed
STREAM_CHUNK_ROWS = 1_000  # rows fetched per round trip while streaming


@dataclass(frozen=True)
class Prepared:
    """Everything of a fetch except its variants, read (and validated) before the answer starts."""

    org: str
    location: Location
    tracked: list[str]
    latest: int
    since: Since | None
    as_of_ms: int | None

    def check(self) -> str:
        since = (self.since.seq, self.since.ms) if self.since else None
        return cursors.filters_check("inventory", self.location.uuid, since, self.as_of_ms)


async def prepare(
    db: Database, actor: Actor, ref: LocationRef, *, since: Since | None, as_of_ms: int | None
) -> Prepared:
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> Prepared:
        # `latest` is read before the balances: a change committed in between is listed now and
        # again after `since=latest` (harmless), never missed.
        if as_of_ms is None:
            latest = await orgs.latest_seq(conn, actor.org)
        else:
            latest = await _latest_as_of(conn, actor.org, as_of_ms)
        location = resolve_location(await locations.list_all(conn, actor.org), ref, in_path=True)
        tracked = await products.all_tracked(conn, actor.org)
        return Prepared(actor.org, location, tracked, latest, since, as_of_ms)

    return await db.read(work)


async def _latest_as_of(conn: AsyncConnection, org: str, as_of_ms: int) -> int:
    """The last ledger sequence number at or before the instant (0 before the first movement)."""
    m = movements.c
    value = await conn.scalar(select(func.max(m.seq)).where(m.org_uuid == org, m.created_ms <= as_of_ms))
    return int(value or 0)


def _current_query(prepared: Prepared) -> Select[Any]:
    since = prepared.since
    return balances.location_query(
        prepared.org,
        prepared.location.uuid,
        since_seq=since.seq if since else None,
        since_ms=since.ms if since else None,
    )


# A BIGINT sum overflows on SQLite ("integer overflow") as soon as a partial sum leaves 64 bits, in
# whatever order the engine adds the rows, even when the total is in range. So the ledger is summed in
# two parts, the quotients and the remainders of its units by 10^9, joined exactly in Python: a movement
# moves about 10^18 units at most (a count's difference), so a quotient or remainder is about 10^9 at
# most and a partial sum could only leave 64 bits after billions of rows of one variant in one
# location. (PostgreSQL's sum(bigint) is NUMERIC and cannot overflow; one query serves both.)
SUM_SPLIT = 10**9


def _as_of_query(prepared: Prepared, as_of_ms: int) -> Select[Any]:
    """Balances at an instant from the ledger: the signed sum of movements into and out of the
    location, as (productUuid, variantUuid, high part, low part), units = high·SUM_SPLIT + low."""
    m = movements.c
    location = prepared.location.uuid
    sign = case((m.to_location_uuid == location, literal_column("1")), else_=literal_column("-1"))
    split = literal_column(str(SUM_SPLIT), BigInteger)
    stmt = (
        select(
            m.product_uuid,
            m.variant_uuid,
            func.sum(sign * (m.units // split)),
            func.sum(sign * (m.units % split)),
        )
        .select_from(
            movements.join(
                products_table,
                and_(
                    products_table.c.org_uuid == m.org_uuid,
                    products_table.c.product_uuid == m.product_uuid,
                ),
            )
        )
        .where(
            m.org_uuid == prepared.org,
            or_(m.from_location_uuid == location, m.to_location_uuid == location),
            m.created_ms <= as_of_ms,
            products_table.c.tracked.is_(True),
        )
        .group_by(m.product_uuid, m.variant_uuid)
        .order_by(m.product_uuid, m.variant_uuid)
    )
    if prepared.since is not None and prepared.since.seq is not None:
        stmt = stmt.having(func.max(m.seq) > prepared.since.seq)
    if prepared.since is not None and prepared.since.ms is not None:
        stmt = stmt.having(func.max(m.created_ms) > prepared.since.ms)
    return stmt


def variants_query(prepared: Prepared, *, after: tuple[str, str] | None = None) -> Select[Any]:
    """The variants of the fetch ordered by (productUuid, variantUuid), from after `after`."""
    if prepared.as_of_ms is None:
        stmt = _current_query(prepared)
        key = tuple_(balances_table.c.product_uuid, balances_table.c.variant_uuid)
    else:
        stmt = _as_of_query(prepared, prepared.as_of_ms)
        key = tuple_(movements.c.product_uuid, movements.c.variant_uuid)
    if after is not None:
        stmt = stmt.where(key > tuple_(*after))
    return stmt


def _records(prepared: Prepared, rows: Any) -> list[BalanceRecord]:
    if prepared.as_of_ms is None:
        return records(prepared.location, [BalanceRow(p, v, int(u)) for p, v, u in rows])
    split = [BalanceRow(p, v, int(high) * SUM_SPLIT + int(low)) for p, v, high, low in rows]
    return records(prepared.location, split)


async def page(
    db: Database, prepared: Prepared, *, limit: int, cursor: str | None
) -> tuple[LocationInventory, str | None]:
    """One keyset page of `limit` variants and the cursor of the next one (None on the last page)."""
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise validation_error([Violation("limit", f"must be between 1 and {MAX_PAGE_LIMIT}")])
    check = prepared.check()
    after = None
    if cursor is not None:
        product, variant = cursors.decode(cursor, check, size=2)
        if not isinstance(product, str) or not isinstance(variant, str):
            raise validation_error([Violation("cursor", "is not a valid cursor")])
        after = (product, variant)
    stmt = variants_query(prepared, after=after).limit(limit + 1)

    async def work(conn: AsyncConnection) -> list[BalanceRecord]:
        return _records(prepared, (await conn.execute(stmt)).all())

    found = await db.read(work)
    next_cursor = None
    if len(found) > limit:
        found = found[:limit]
        next_cursor = cursors.encode([found[-1].product_uuid, found[-1].variant_uuid], check)
    inventory = LocationInventory(prepared.location.uuid, prepared.tracked, found, prepared.latest)
    return inventory, next_cursor


async def stream(db: Database, prepared: Prepared) -> AsyncGenerator[list[BalanceRecord], None]:
    """Every variant, in chunks from a server-side cursor inside one read transaction (one snapshot).

    The transaction and its pooled connection last until the iteration ends or the generator is
    closed: consume it without waiting on anything but the database, and close it (`aclosing`)."""
    stmt = variants_query(prepared).execution_options(yield_per=STREAM_CHUNK_ROWS)
    async with db.read_engine.connect() as conn, conn.begin():
        result = await conn.stream(stmt)
        async for chunk in result.partitions(STREAM_CHUNK_ROWS):
            yield _records(prepared, chunk)
