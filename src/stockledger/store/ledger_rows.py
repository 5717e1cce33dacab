"""The ledger: immutable movement rows, one per moved quantity, never updated or deleted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.ledger import Movement
from stockledger.store.tables import movements

INSERT = movements.insert()


def row(
    org: str,
    m: Movement,
    uuid: str,
    actor: str | None,
    external_uuid: str | None,
    source: str,
    at_ms: int,
) -> dict[str, object]:
    """The `movements` row of a numbered movement."""
    return {
        "org_uuid": org,
        "seq": m.seq,
        "uuid": uuid,
        "product_uuid": m.change.product_uuid,
        "variant_uuid": m.change.variant_uuid,
        "from_location_uuid": m.change.from_location,
        "to_location_uuid": m.change.to_location,
        "units": m.change.units,
        "external_uuid": external_uuid,
        "source": source,
        "actor": actor,
        "created_ms": at_ms,
    }


@dataclass(frozen=True)
class MovementRow:
    """One ledger row as read back (history, the back office's variant page)."""

    uuid: str
    seq: int
    product_uuid: str
    variant_uuid: str
    from_location: str
    to_location: str
    units: int
    external_uuid: str | None
    source: str
    actor: str | None
    created_ms: int


_m = movements.c
_ROW_COLUMNS = (
    _m.uuid,
    _m.seq,
    _m.product_uuid,
    _m.variant_uuid,
    _m.from_location_uuid,
    _m.to_location_uuid,
    _m.units,
    _m.external_uuid,
    _m.source,
    _m.actor,
    _m.created_ms,
)


async def newest_first(
    conn: AsyncConnection,
    org: str,
    *,
    limit: int,
    product_uuid: str | None = None,
    variant_uuid: str | None = None,
    location_uuid: str | None = None,
    external_uuid: str | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
    before_seq: int | None = None,
) -> list[MovementRow]:
    """Up to `limit` movements, newest first, keyset on the sequence (`before_seq` excluded)."""
    stmt = select(*_ROW_COLUMNS).where(_m.org_uuid == org)
    if product_uuid is not None:
        stmt = stmt.where(_m.product_uuid == product_uuid)
    if variant_uuid is not None:
        stmt = stmt.where(_m.variant_uuid == variant_uuid)
    if location_uuid is not None:
        stmt = stmt.where(or_(_m.from_location_uuid == location_uuid, _m.to_location_uuid == location_uuid))
    if external_uuid is not None:
        stmt = stmt.where(_m.external_uuid == external_uuid)
    if from_ms is not None:
        stmt = stmt.where(_m.created_ms >= from_ms)
    if to_ms is not None:
        stmt = stmt.where(_m.created_ms <= to_ms)
    if before_seq is not None:
        stmt = stmt.where(_m.seq < before_seq)
    result = await conn.execute(stmt.order_by(_m.seq.desc()).limit(limit))
    return [
        MovementRow(r[0], int(r[1]), r[2], r[3], r[4], r[5], int(r[6]), r[7], r[8], r[9], int(r[10]))
        for r in result.all()
    ]
