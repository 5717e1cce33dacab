"""The delivery log: per-subscription delivery rows fanned out from the outbox, claimed and updated
by dispatchers. Several dispatchers may share one PostgreSQL: they claim with FOR UPDATE SKIP LOCKED
and a lease, and only the oldest pending message of a subscription is ever claimable, so each
subscription receives its messages in order."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.subscriptions import matches
from stockledger.events.delivery import Message
from stockledger.store import subscriptions as subscription_store
from stockledger.store.sql import upsert
from stockledger.store.tables import deliveries, outbox, subscriptions

PENDING, DELIVERED, FAILED, CANCELLED = "PENDING", "DELIVERED", "FAILED", "CANCELLED"
# One dispatcher fans out at a time, so per-subscription order follows the outbox order.
_PG_FAN_OUT_LOCK_ID = 7_345_003


@dataclass(frozen=True)
class Claimed:
    """A delivery a dispatcher holds the lease of, with what it needs to send it."""

    delivery_id: int
    subscription_uuid: str
    destination: str
    signing_key: str
    failures: int
    message: Message


@dataclass(frozen=True)
class LogEntry:
    message_uuid: str
    message_id: str
    event_name: str
    state: str
    attempts: int
    last_status: str | None
    last_attempt_ms: int | None
    next_attempt_ms: int | None
    created_ms: int


@dataclass(frozen=True)
class Work:
    """What a dispatcher pass has to do."""

    fan_out: bool
    deliver: bool


async def has_work(conn: AsyncConnection, now_ms: int) -> Work:
    """Cheap reads: is there an event to fan out, a delivery due?"""
    undispatched = select(outbox.c.id).where(outbox.c.dispatched.is_(False)).limit(1)
    if await conn.scalar(undispatched) is not None:
        return Work(fan_out=True, deliver=True)
    due = (
        select(deliveries.c.id)
        .where(
            deliveries.c.state == PENDING,
            deliveries.c.next_attempt_ms <= now_ms,
            or_(deliveries.c.lease_until_ms.is_(None), deliveries.c.lease_until_ms <= now_ms),
        )
        .limit(1)
    )
    return Work(fan_out=False, deliver=await conn.scalar(due) is not None)


async def fan_out(conn: AsyncConnection, now_ms: int, limit: int) -> int:
    """Turn undispatched outbox events into one delivery per matching subscription of their
    organization; returns how many events were dispatched."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        locked = await conn.scalar(text(f"SELECT pg_try_advisory_xact_lock({_PG_FAN_OUT_LOCK_ID})"))
        if not locked:
            return 0
    stmt = (
        select(outbox.c.id, outbox.c.org_uuid, outbox.c.event_name, outbox.c.message_uuid)
        .where(outbox.c.dispatched.is_(False))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    events = (await conn.execute(stmt)).all()
    if not events:
        return 0
    subs = await subscription_store.list_for_orgs(conn, {e.org_uuid for e in events})
    rows = [
        {
            "org_uuid": e.org_uuid,
            "subscription_uuid": s.uuid,
            "outbox_id": e.id,
            "message_uuid": e.message_uuid,
            "event_name": e.event_name,
            "state": PENDING,
            "attempts": 0,
            "failures": 0,
            "next_attempt_ms": now_ms,
            "created_ms": now_ms,
        }
        for e in events
        for s in subs
        if s.org_uuid == e.org_uuid and matches(s.event_names, e.event_name)
    ]
    if rows:
        await conn.execute(
            upsert(conn, deliveries).on_conflict_do_nothing(
                index_elements=["subscription_uuid", "message_uuid"]
            ),
            rows,
        )
    await conn.execute(update(outbox).where(outbox.c.id.in_([e.id for e in events])).values(dispatched=True))
    return len(events)


async def claim_due(conn: AsyncConnection, now_ms: int, lease_ms: int, limit: int) -> list[Claimed]:
    """Lease due deliveries: at most one per subscription, always its oldest pending message."""
    earlier = deliveries.alias("earlier")
    stmt = (
        select(
            deliveries.c.id,
            deliveries.c.subscription_uuid,
            deliveries.c.failures,
            subscriptions.c.destination,
            subscriptions.c.signing_key,
            outbox.c.org_uuid,
            outbox.c.message_uuid,
            outbox.c.message_id,
            outbox.c.event_name,
            outbox.c.payload,
            outbox.c.timestamp,
        )
        .select_from(
            deliveries.join(subscriptions, subscriptions.c.uuid == deliveries.c.subscription_uuid).join(
                outbox, outbox.c.id == deliveries.c.outbox_id
            )
        )
        .where(
            deliveries.c.state == PENDING,
            deliveries.c.next_attempt_ms <= now_ms,
            or_(deliveries.c.lease_until_ms.is_(None), deliveries.c.lease_until_ms <= now_ms),
            ~exists().where(
                earlier.c.subscription_uuid == deliveries.c.subscription_uuid,
                earlier.c.state == PENDING,
                earlier.c.outbox_id < deliveries.c.outbox_id,
            ),
        )
        .order_by(deliveries.c.next_attempt_ms, deliveries.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=deliveries)
    rows = (await conn.execute(stmt)).all()
    if not rows:
        return []
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_([r.id for r in rows]))
        .values(lease_until_ms=now_ms + lease_ms)
    )
    return [
        Claimed(
            delivery_id=int(r.id),
            subscription_uuid=r.subscription_uuid,
            destination=r.destination,
            signing_key=r.signing_key,
            failures=int(r.failures),
            message=Message(r.org_uuid, r.message_uuid, r.message_id, r.event_name, r.payload, r.timestamp),
        )
        for r in rows
    ]


async def record_attempt(
    conn: AsyncConnection,
    claimed: Claimed,
    *,
    state: str,
    failures: int,
    status_label: str,
    attempt_ms: int,
    next_attempt_ms: int | None,
) -> None:
    """Write the outcome of one attempt and release the lease. A delivery cancelled meanwhile (its
    subscription was deleted) keeps its state; only the attempt is logged."""
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id == claimed.delivery_id)
        .values(
            attempts=deliveries.c.attempts + 1,
            last_status=status_label,
            last_attempt_ms=attempt_ms,
            lease_until_ms=None,
        )
    )
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id == claimed.delivery_id, deliveries.c.state == PENDING)
        .values(state=state, failures=failures, next_attempt_ms=next_attempt_ms)
    )


async def log_for(conn: AsyncConnection, org: str, sub_uuid: str, limit: int) -> list[LogEntry]:
    """The newest `limit` deliveries of a subscription, newest first (also once it is deleted)."""
    rows = await conn.execute(
        select(deliveries, outbox.c.message_id)
        .select_from(deliveries.join(outbox, outbox.c.id == deliveries.c.outbox_id))
        .where(deliveries.c.org_uuid == org, deliveries.c.subscription_uuid == sub_uuid)
        .order_by(deliveries.c.outbox_id.desc())
        .limit(limit)
    )
    return [
        LogEntry(
            message_uuid=r.message_uuid,
            message_id=r.message_id,
            event_name=r.event_name,
            state=r.state,
            attempts=int(r.attempts),
            last_status=r.last_status,
            last_attempt_ms=r.last_attempt_ms,
            next_attempt_ms=r.next_attempt_ms,
            created_ms=int(r.created_ms),
        )
        for r in rows
    ]


async def redeliver(conn: AsyncConnection, sub_uuid: str, message_uuid: str, now_ms: int) -> bool:
    """Queue the message for this subscription again, with a fresh retry schedule."""
    result = await conn.execute(
        update(deliveries)
        .where(deliveries.c.subscription_uuid == sub_uuid, deliveries.c.message_uuid == message_uuid)
        .values(state=PENDING, failures=0, next_attempt_ms=now_ms)
    )
    return bool(result.rowcount)


async def depth(conn: AsyncConnection) -> int:
    """Events not yet fanned out plus deliveries not yet made (the outbox depth metric)."""
    undispatched = await conn.scalar(
        select(func.count()).select_from(outbox).where(outbox.c.dispatched.is_(False))
    )
    pending = await conn.scalar(
        select(func.count()).select_from(deliveries).where(deliveries.c.state == PENDING)
    )
    return int(undispatched or 0) + int(pending or 0)
