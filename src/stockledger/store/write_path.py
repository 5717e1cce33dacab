"""Fewer round trips while the organization lock is held (a PUT's serial section on PostgreSQL).

Every write of one organization waits for the previous one's COMMIT, so each statement executed
between taking the lock and committing lengthens the time all writers of that organization queue.
This module folds the statements of the movement write path:

- `lock_allocating`: the lock and the sequence allocation are one UPDATE (the UPDATE takes the row
  lock an explicit SELECT … FOR NO KEY UPDATE would), returning the new seq.
- `prelude`: the organization's locations, which of the request's products are tracked, whether it
  has any low-stock alert configured and its negative-stock policy, in one statement. It runs after
  the lock, so on READ COMMITTED it sees every write committed before ours (one statement = one
  snapshot).
- `append_entries`: the ledger rows and the outbox events in one data-modifying statement on
  PostgreSQL (arrays unnested; one cached statement whatever the number of rows).

The prelude and the inserts go straight to the driver (store/driver_sql.py): they run on every
movement write, where SQLAlchemy's execution path would cost several times the statements' own CPU.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.event_payloads import envelope_timestamp
from stockledger.domain.ledger import Movement
from stockledger.domain.locations import Location
from stockledger.store import driver_sql
from stockledger.store import outbox as outbox_store
from stockledger.store.locations import TYPE_RANK
from stockledger.store.orgs import allocate_seq
from stockledger.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Prelude:
    """What a movement write reads under the lock before it validates."""

    locations: list[Location]
    tracked: set[str]
    low_stock_configured: bool
    allow_negative_stock: bool


async def lock_allocating(conn: AsyncConnection, org: str, count: int) -> int:
    """Lock the organization and reserve `count` sequence numbers in one statement; the last one."""
    return await allocate_seq(conn, org, count)


# Locations, tracked products among the request's, and one row of organization state: whether any
# low-stock alert is configured (in `is_default`) and whether negative stock is allowed (`is_system`).
_PRELUDE = driver_sql.Sql(
    postgresql="""
    SELECT 'L' AS kind, uuid, type, name, description, is_default, is_system, created_ms
      FROM locations WHERE org_uuid = $1
    UNION ALL
    SELECT 'P', product_uuid, NULL, NULL, NULL, false, false, 0
      FROM products WHERE org_uuid = $1 AND tracked AND product_uuid = ANY($2::varchar[])
    UNION ALL
    SELECT 'A', NULL, NULL, NULL, NULL,
           EXISTS (SELECT 1 FROM low_stock_levels WHERE org_uuid = $1 AND alert), allow_negative_stock, 0
      FROM organizations WHERE uuid = $1
    """,
    sqlite="""
    SELECT 'L' AS kind, uuid, type, name, description, is_default, is_system, created_ms
      FROM locations WHERE org_uuid = ?1
    UNION ALL
    SELECT 'P', product_uuid, NULL, NULL, NULL, 0, 0, 0
      FROM products WHERE org_uuid = ?1 AND tracked = 1 AND product_uuid IN (SELECT value FROM json_each(?2))
    UNION ALL
    SELECT 'A', NULL, NULL, NULL, NULL,
           EXISTS (SELECT 1 FROM low_stock_levels WHERE org_uuid = ?1 AND alert = 1), allow_negative_stock, 0
      FROM organizations WHERE uuid = ?1
    """,
)


async def prelude(conn: AsyncConnection, org: str, product_uuids: Iterable[str]) -> Prelude:
    """Locations (default STORE first, then other stores, SOLD, BIN, SUPPLIER), tracked products
    among `product_uuids`, whether any low-stock alert is configured and whether negative stock is
    allowed, in one statement whatever the number of products."""
    wanted = sorted(set(product_uuids))
    found: list[tuple[Any, ...]] = []
    tracked: set[str] = set()
    alerts = allow_negative = True
    rows = await driver_sql.fetch(conn, _PRELUDE, [org, driver_sql.text_list(conn, wanted)])
    for kind, uuid_, type_, name, description, is_default, is_system, created_ms in rows:
        if kind == "L":
            found.append((uuid_, type_, name, description, bool(is_default), bool(is_system), created_ms))
        elif kind == "P":
            tracked.add(uuid_)
        else:
            alerts, allow_negative = bool(is_default), bool(is_system)
    found.sort(key=lambda r: (not r[4], TYPE_RANK.get(r[1], len(TYPE_RANK)), r[6], r[0]))
    return Prelude([Location(*r[:6]) for r in found], tracked, alerts, allow_negative)


_APPEND = driver_sql.Sql(
    # The ledger rows and the events in one data-modifying statement (arrays unnested: one prepared
    # statement whatever the number of rows).
    postgresql="""
    WITH ledger AS (
        INSERT INTO movements (org_uuid, seq, uuid, product_uuid, variant_uuid, from_location_uuid,
                               to_location_uuid, units, external_uuid, source, actor, created_ms)
        SELECT $1::varchar, m.seq, m.uuid, m.product_uuid, m.variant_uuid, m.from_location_uuid,
               m.to_location_uuid, m.units, m.external_uuid, $2::varchar, m.actor, $3::bigint
        FROM unnest($5::bigint[], $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[],
                    $10::varchar[], $11::bigint[], $12::varchar[], $13::varchar[])
             AS m(seq, uuid, product_uuid, variant_uuid, from_location_uuid, to_location_uuid, units,
                  external_uuid, actor)
    )
    INSERT INTO outbox (org_uuid, event_name, message_uuid, message_id, payload, timestamp, created_ms)
    SELECT $1::varchar, e.event_name, e.message_uuid, e.message_id, e.payload, $4::varchar, $3::bigint
    FROM unnest($14::varchar[], $15::varchar[], $16::varchar[], $17::text[]) WITH ORDINALITY
         AS e(event_name, message_uuid, message_id, payload, n)
    ORDER BY e.n
    """,
    sqlite="",  # SQLite runs in-process, where a statement costs no round trip: the two inserts below
)
_SQLITE_LEDGER_ROW = """
    INSERT INTO movements (org_uuid, seq, uuid, product_uuid, variant_uuid, from_location_uuid,
                           to_location_uuid, units, external_uuid, source, actor, created_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_SQLITE_OUTBOX_ROW = """
    INSERT INTO outbox (org_uuid, event_name, message_uuid, message_id, payload, timestamp, created_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?)
"""


@dataclass(frozen=True)
class Entry:
    """A ledger row to append, with the request it came from."""

    movement: Movement
    actor: str | None
    external_uuid: str | None
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


def _ledger_row(org: str, entry: Entry, source: str, at_ms: int) -> tuple[object, ...]:
    """The values of _SQLITE_LEDGER_ROW for one entry."""
    m, c = entry.movement, entry.movement.change
    return (
        org,
        m.seq,
        entry.uuid,
        c.product_uuid,
        c.variant_uuid,
        c.from_location,
        c.to_location,
        c.units,
        entry.external_uuid,
        source,
        entry.actor,
        at_ms,
    )


async def append_entries(
    uow: UnitOfWork,
    org: str,
    entries: list[Entry],
    events: list[outbox_store.Event],
    *,
    source: str,
    at_ms: int,
) -> None:
    """Insert ledger rows of one or several requests (each row names its request's actor and
    externalUuid), then the outbox events, in this order of ids."""
    if not entries and not events:
        return
    conn = uow.conn
    if events:
        uow.events_appended()
    timestamp = envelope_timestamp(at_ms)
    if not driver_sql.is_postgresql(conn):
        if entries:
            ledger = [_ledger_row(org, e, source, at_ms) for e in entries]
            await driver_sql.execute_many(conn, _SQLITE_LEDGER_ROW, ledger)
        if events:
            outbox = [
                (org, e.event_name, e.message_uuid, e.message_id, e.payload, timestamp, at_ms) for e in events
            ]
            await driver_sql.execute_many(conn, _SQLITE_OUTBOX_ROW, outbox)
        return
    changes = [e.movement.change for e in entries]
    await driver_sql.fetch(
        conn,
        _APPEND,
        [
            org,
            source,
            at_ms,
            timestamp,
            [e.movement.seq for e in entries],
            [e.uuid for e in entries],
            [c.product_uuid for c in changes],
            [c.variant_uuid for c in changes],
            [c.from_location for c in changes],
            [c.to_location for c in changes],
            [c.units for c in changes],
            [e.external_uuid for e in entries],
            [e.actor for e in entries],
            [e.event_name for e in events],
            [e.message_uuid for e in events],
            [e.message_id for e in events],
            [e.payload for e in events],
        ],
    )
