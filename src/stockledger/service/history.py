"""The movement history (spec §8): the ledger, filtered, newest first, in stable keyset pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.errors import Violation, not_found, validation_error
from stockledger.service import accounts, cursors, organizations
from stockledger.service.context import Actor
from stockledger.store import ledger_rows, locations
from stockledger.store.db import Database
from stockledger.store.ledger_rows import MovementRow

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000  # one page stays a few hundred kilobytes


@dataclass(frozen=True)
class HistoryFilter:
    product_uuid: str | None = None
    variant_uuid: str | None = None
    location_uuid: str | None = None
    external_uuid: str | None = None
    from_ms: int | None = None
    to_ms: int | None = None

    def check(self) -> str:
        return cursors.filters_check(
            "movements",
            self.product_uuid,
            self.variant_uuid,
            self.location_uuid,
            self.external_uuid,
            self.from_ms,
            self.to_ms,
        )


@dataclass(frozen=True)
class HistoryPage:
    movements: list[MovementRow]
    next_cursor: str | None
    # actor → name of the person, for the movements recorded by someone signed in to the back office
    actor_names: dict[str, str] = field(default_factory=dict)


async def history(
    db: Database, actor: Actor, filters: HistoryFilter, *, limit: int | None, cursor: str | None
) -> HistoryPage:
    """One page, newest first. Keyset on the sequence: movements committed while a client pages have
    higher sequence numbers than any page's position, so no item is skipped or repeated."""
    page_size = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= page_size <= MAX_LIMIT:
        raise validation_error([Violation("limit", f"must be between 1 and {MAX_LIMIT}")])
    check = filters.check()
    before_seq = None
    if cursor is not None:
        (position,) = cursors.decode(cursor, check, size=1)
        if not isinstance(position, int):
            raise validation_error([Violation("cursor", "is not a valid cursor")])
        before_seq = position
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> tuple[list[MovementRow], dict[str, str]]:
        rows = await ledger_rows.newest_first(
            conn,
            actor.org,
            limit=page_size + 1,
            product_uuid=filters.product_uuid,
            variant_uuid=filters.variant_uuid,
            location_uuid=filters.location_uuid,
            external_uuid=filters.external_uuid,
            from_ms=filters.from_ms,
            to_ms=filters.to_ms,
            before_seq=before_seq,
        )
        # One more indexed read, and only for pages holding movements recorded in the back office.
        return rows, await accounts.actor_names(conn, actor.org, (r.actor for r in rows[:page_size]))

    rows, names = await db.read(work)
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        next_cursor = cursors.encode([rows[-1].seq], check)
    return HistoryPage(rows, next_cursor, names)


async def location_history(
    db: Database, actor: Actor, filters: HistoryFilter, *, limit: int | None, cursor: str | None
) -> HistoryPage:
    """The movements into and out of `filters.location_uuid`, newest first; an unknown location
    (of this organization) is 404, as on every other location path."""
    assert filters.location_uuid is not None
    await organizations.ensure(db, actor.org)
    location_uuid = filters.location_uuid

    async def exists(conn: AsyncConnection) -> bool:
        return await locations.by_uuid(conn, actor.org, location_uuid) is not None

    if not await db.read(exists):
        raise not_found(f"Location {location_uuid} not found")
    return await history(db, actor, filters, limit=limit, cursor=cursor)
