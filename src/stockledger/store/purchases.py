"""Recorded purchases (the idempotency record of spec §9, read back by the Purchase API) and the
Zettle receiver's signing keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.sql import upsert
from stockledger.store.tables import purchase_connections, purchases


async def stored_result(conn: AsyncConnection, org: str, purchase_uuid: str) -> dict[str, Any] | None:
    """The answer recorded for this purchase, or None when it was never recorded."""
    text = await conn.scalar(
        select(purchases.c.result).where(
            purchases.c.org_uuid == org, purchases.c.purchase_uuid == purchase_uuid
        )
    )
    if text is None:
        return None
    result: dict[str, Any] = orjson.loads(text)
    return result


@dataclass(frozen=True)
class NewPurchase:
    """What recording a purchase stores: its answer and what the Purchase API reads back."""

    purchase_uuid: str
    channel: str
    result: dict[str, Any]
    document: str  # the document as received (JSON text)
    timestamp_ms: int
    purchase_number: int
    refunds_purchase_uuid: str | None


async def insert(conn: AsyncConnection, org: str, new: NewPurchase, at_ms: int) -> None:
    """Record the purchase; a second insert of the same UUID fails (the caller holds the org lock)."""
    await conn.execute(
        purchases.insert().values(
            org_uuid=org,
            purchase_uuid=new.purchase_uuid,
            channel=new.channel,
            result=orjson.dumps(new.result).decode(),
            created_ms=at_ms,
            document=new.document,
            timestamp_ms=new.timestamp_ms,
            purchase_number=new.purchase_number,
            refunds_purchase_uuid=new.refunds_purchase_uuid,
        )
    )


async def next_number(conn: AsyncConnection, org: str) -> int:
    """The receipt number after the organization's highest (ix_purchases_org_number; the caller holds
    the organization's lock, so two purchases never take the same one)."""
    highest = await conn.scalar(
        select(func.max(purchases.c.purchase_number)).where(purchases.c.org_uuid == org)
    )
    return int(highest or 0) + 1


@dataclass(frozen=True)
class StoredRow:
    purchase_uuid: str
    document: str | None
    result: str
    timestamp_ms: int
    purchase_number: int
    refunds_purchase_uuid: str | None


_p = purchases.c
_ROW = (
    _p.purchase_uuid,
    _p.document,
    _p.result,
    _p.timestamp_ms,
    _p.purchase_number,
    _p.refunds_purchase_uuid,
)


def _stored(row: Any) -> StoredRow:
    return StoredRow(row[0], row[1], row[2], int(row[3]), int(row[4]), row[5])


async def page(
    conn: AsyncConnection,
    org: str,
    *,
    start_ms: int,
    end_ms: int,
    after: tuple[int, str] | None,
    descending: bool,
    limit: int,
) -> list[StoredRow]:
    """Up to `limit` purchases with start_ms <= timestamp < end_ms, in (timestamp, UUID) order (or
    its reverse) strictly after `after`: one walk of ix_purchases_org_timestamp."""
    key = tuple_(_p.timestamp_ms, _p.purchase_uuid)
    stmt = select(*_ROW).where(_p.org_uuid == org, _p.timestamp_ms >= start_ms, _p.timestamp_ms < end_ms)
    if after is not None:
        stmt = stmt.where(key < tuple_(*after) if descending else key > tuple_(*after))
    order = (
        (_p.timestamp_ms.desc(), _p.purchase_uuid.desc())
        if descending
        else (_p.timestamp_ms, _p.purchase_uuid)
    )
    rows = (await conn.execute(stmt.order_by(*order).limit(limit))).all()
    return [_stored(row) for row in rows]


async def one(conn: AsyncConnection, org: str, purchase_uuid: str) -> StoredRow | None:
    stmt = select(*_ROW).where(_p.org_uuid == org, _p.purchase_uuid == purchase_uuid)
    row = (await conn.execute(stmt)).first()
    return None if row is None else _stored(row)


async def timestamp_of(conn: AsyncConnection, org: str, purchase_uuid: str) -> int | None:
    value = await conn.scalar(
        select(_p.timestamp_ms).where(_p.org_uuid == org, _p.purchase_uuid == purchase_uuid)
    )
    return None if value is None else int(value)


async def refunded_by(conn: AsyncConnection, org: str, purchase_uuids: Sequence[str]) -> dict[str, list[str]]:
    """For each of `purchase_uuids` that was refunded: its refunds, in (timestamp, UUID) order
    (ix_purchases_org_refunds)."""
    if not purchase_uuids:
        return {}
    stmt = (
        select(_p.refunds_purchase_uuid, _p.purchase_uuid)
        .where(_p.org_uuid == org, _p.refunds_purchase_uuid.in_(list(purchase_uuids)))
        .order_by(_p.timestamp_ms, _p.purchase_uuid)
    )
    found: dict[str, list[str]] = {}
    for refunded, refund in (await conn.execute(stmt)).all():
        found.setdefault(refunded, []).append(refund)
    return found


async def set_signing_key(conn: AsyncConnection, org: str, signing_key: str, at_ms: int) -> None:
    stmt = upsert(conn, purchase_connections).values(
        org_uuid=org, signing_key=signing_key, created_ms=at_ms, updated_ms=at_ms
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_uuid"], set_={"signing_key": signing_key, "updated_ms": at_ms}
    )
    await conn.execute(stmt)


async def signing_key(conn: AsyncConnection, org: str) -> str | None:
    value = await conn.scalar(
        select(purchase_connections.c.signing_key).where(purchase_connections.c.org_uuid == org)
    )
    return None if value is None else str(value)
