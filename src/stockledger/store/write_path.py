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
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Boolean,
    String,
    bindparam,
    cast,
    exists,
    false,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.event_payloads import envelope_timestamp
from stockledger.domain.ledger import Movement
from stockledger.domain.locations import Location
from stockledger.store import ledger_rows
from stockledger.store import outbox as outbox_store
from stockledger.store import products as products_store
from stockledger.store.locations import TYPE_RANK
from stockledger.store.orgs import allocate_seq
from stockledger.store.sql import MAX_IN_LIST
from stockledger.store.tables import locations, low_stock_levels, organizations, outbox, products
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


_PRELUDE = union_all(
    select(
        literal_column("'L'").label("kind"),
        locations.c.uuid,
        locations.c.type,
        locations.c.name,
        locations.c.description,
        locations.c.is_default,
        locations.c.is_system,
        locations.c.created_ms,
    ).where(locations.c.org_uuid == bindparam("org")),
    select(
        literal_column("'P'"),
        products.c.product_uuid,
        cast(null(), String),
        cast(null(), String),
        cast(null(), String),
        false(),
        false(),
        literal_column("0"),
    ).where(
        products.c.org_uuid == bindparam("org"),
        products.c.tracked.is_(True),
        products.c.product_uuid.in_(bindparam("wanted", expanding=True)),
    ),
    select(
        literal_column("'A'"),
        cast(null(), String),
        cast(null(), String),
        cast(null(), String),
        cast(null(), String),
        cast(
            exists().where(
                low_stock_levels.c.org_uuid == bindparam("org"), low_stock_levels.c.alert.is_(True)
            ),
            Boolean,
        ),
        organizations.c.allow_negative_stock,
        literal_column("0"),
    ).where(organizations.c.uuid == bindparam("org")),
)


async def prelude(conn: AsyncConnection, org: str, product_uuids: Iterable[str]) -> Prelude:
    """Locations (default STORE first, then other stores, SOLD, BIN, SUPPLIER), tracked products
    among `product_uuids`, whether any low-stock alert is configured and whether negative stock is
    allowed. Products too many for one IN list are looked up by a second read, in chunks."""
    wanted = sorted(set(product_uuids))
    fits = len(wanted) <= MAX_IN_LIST
    found: list[tuple[Any, ...]] = []
    tracked: set[str] = set()
    alerts = allow_negative = True
    for kind, uuid_, type_, name, description, is_default, is_system, created_ms in (
        await conn.execute(_PRELUDE, {"org": org, "wanted": wanted if fits else []})
    ).all():
        if kind == "L":
            found.append((uuid_, type_, name, description, bool(is_default), bool(is_system), created_ms))
        elif kind == "P":
            tracked.add(uuid_)
        else:
            alerts, allow_negative = bool(is_default), bool(is_system)
    if not fits:
        tracked = await products_store.tracked_among(conn, org, wanted)
    found.sort(key=lambda r: (not r[4], TYPE_RANK.get(r[1], len(TYPE_RANK)), r[6], r[0]))
    return Prelude([Location(*r[:6]) for r in found], tracked, alerts, allow_negative)


_PG_APPEND = text(
    """
    WITH ledger AS (
        INSERT INTO movements (org_uuid, seq, uuid, product_uuid, variant_uuid, from_location_uuid,
                               to_location_uuid, units, external_uuid, source, actor, created_ms)
        SELECT :org, m.seq, m.uuid, m.product_uuid, m.variant_uuid, m.from_location_uuid,
               m.to_location_uuid, m.units, m.external_uuid, :source, m.actor, :at_ms
        FROM unnest(CAST(:m_seq AS bigint[]), CAST(:m_uuid AS varchar[]), CAST(:m_product AS varchar[]),
                    CAST(:m_variant AS varchar[]), CAST(:m_from AS varchar[]), CAST(:m_to AS varchar[]),
                    CAST(:m_units AS bigint[]), CAST(:m_external AS varchar[]), CAST(:m_actor AS varchar[]))
             AS m(seq, uuid, product_uuid, variant_uuid, from_location_uuid, to_location_uuid, units,
                  external_uuid, actor)
    )
    INSERT INTO outbox (org_uuid, event_name, message_uuid, message_id, payload, timestamp, created_ms)
    SELECT :org, e.event_name, e.message_uuid, e.message_id, e.payload, :timestamp, :at_ms
    FROM unnest(CAST(:e_name AS varchar[]), CAST(:e_uuid AS varchar[]), CAST(:e_id AS varchar[]),
                CAST(:e_payload AS text[])) WITH ORDINALITY
         AS e(event_name, message_uuid, message_id, payload, n)
    ORDER BY e.n
    """
)


@dataclass(frozen=True)
class Entry:
    """A ledger row to append, with the request it came from."""

    movement: Movement
    actor: str | None
    external_uuid: str | None
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


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
    if conn.dialect.name != "postgresql":
        # SQLite runs in-process: a statement costs no network round trip, the plain inserts do.
        if entries:
            rows = [
                ledger_rows.row(org, e.movement, e.uuid, e.actor, e.external_uuid, source, at_ms)
                for e in entries
            ]
            await conn.execute(ledger_rows.INSERT, rows)
        if events:
            await conn.execute(outbox.insert(), [outbox_store.row(org, e, at_ms) for e in events])
        return
    await conn.execute(
        _PG_APPEND,
        {
            "org": org,
            "source": source,
            "at_ms": at_ms,
            "timestamp": envelope_timestamp(at_ms),
            "m_seq": [e.movement.seq for e in entries],
            "m_uuid": [e.uuid for e in entries],
            "m_product": [e.movement.change.product_uuid for e in entries],
            "m_variant": [e.movement.change.variant_uuid for e in entries],
            "m_from": [e.movement.change.from_location for e in entries],
            "m_to": [e.movement.change.to_location for e in entries],
            "m_units": [e.movement.change.units for e in entries],
            "m_external": [e.external_uuid for e in entries],
            "m_actor": [e.actor for e in entries],
            "e_name": [e.event_name for e in events],
            "e_uuid": [e.message_uuid for e in events],
            "e_id": [e.message_id for e in events],
            "e_payload": [e.payload for e in events],
        },
    )
