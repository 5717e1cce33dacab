"""The delivery log: per-subscription delivery rows fanned out from the outbox, claimed and updated
by dispatchers. Several dispatchers may share one PostgreSQL: they claim with FOR UPDATE SKIP LOCKED
and a lease, and only the oldest pending message of a subscription is ever claimable, so each
subscription receives its messages in order. A claimed group's outcomes are written by
store/outcomes.py, with the renewal of the lease of the rest of the group."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.event_payloads import Message
from stockledger.domain.subscriptions import matches
from stockledger.store import driver_sql
from stockledger.store import subscriptions as subscription_store
from stockledger.store.side_reads import SideReader
from stockledger.store.sql import upsert
from stockledger.store.tables import deliveries, outbox, subscriptions
from stockledger.store.unit_of_work import UnitOfWork

PENDING, DELIVERED, FAILED, CANCELLED = "PENDING", "DELIVERED", "FAILED", "CANCELLED"
# One dispatcher fans out at a time, so per-subscription order follows the outbox order.
_PG_FAN_OUT_LOCK_ID = 7_345_003


@dataclass(frozen=True)
class Claimed:
    """A delivery a dispatcher holds the lease of, with what it needs to send it."""

    delivery_id: int
    subscription_uuid: str
    outbox_id: int  # the subscription's delivery order
    destination: str
    signing_key: str
    failures: int
    message: Message


@dataclass(frozen=True)
class Group:
    """One subscription's claimed deliveries in outbox order, all leased until `lease_until_ms`
    (the value is also the holder's token: a renewal or release matches it)."""

    org_uuid: str
    subscription_uuid: str
    items: list[Claimed]
    lease_until_ms: int

    @property
    def key(self) -> tuple[str, str]:
        """(organization, subscription): subscription UUIDs are unique per organization only."""
        return (self.org_uuid, self.subscription_uuid)


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
    """What a dispatcher pass has to do, and when the next retry comes due."""

    fan_out: bool  # events wait to be fanned out
    due: bool  # a delivery is due: pending, its time has come and no lease holds it
    next_retry_ms: int | None  # the earliest next attempt after now (a failed delivery's retry)

    @property
    def deliver(self) -> bool:
        return self.fan_out or self.due


# Driver-level SQL on the side reader (store/side_reads.py): the probe runs on every pass, up to 50
# times a second under load, and this costs one round trip instead of a transaction's three.
_PG_PROBE = (
    "SELECT EXISTS (SELECT 1 FROM outbox WHERE dispatched = false),"
    " EXISTS (SELECT 1 FROM deliveries WHERE state = 'PENDING' AND next_attempt_ms <= $1"
    " AND (lease_until_ms IS NULL OR lease_until_ms <= $1)),"
    " (SELECT next_attempt_ms FROM deliveries WHERE state = 'PENDING' AND next_attempt_ms > $1"
    " ORDER BY next_attempt_ms LIMIT 1)"
)
_SQLITE_PROBE = (
    "SELECT EXISTS (SELECT 1 FROM outbox WHERE dispatched = 0),"
    " EXISTS (SELECT 1 FROM deliveries WHERE state = 'PENDING' AND next_attempt_ms <= ?1"
    " AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)),"
    " (SELECT next_attempt_ms FROM deliveries WHERE state = 'PENDING' AND next_attempt_ms > ?1"
    " ORDER BY next_attempt_ms LIMIT 1)"
)


async def has_work(reader: SideReader, now_ms: int) -> Work:
    """One cheap read, as committed right now: is there an event to fan out, a delivery due, and
    when is the next retry due (the first entry after now in `ix_deliveries_due`)?"""
    ((undispatched, due, next_retry),) = await reader.fetch(
        _SQLITE_PROBE if reader.is_sqlite else _PG_PROBE, [now_ms]
    )
    return Work(
        fan_out=bool(undispatched),
        due=bool(due),
        next_retry_ms=None if next_retry is None else int(next_retry),
    )


@dataclass(frozen=True)
class FanOut:
    """What one fan-out did."""

    events: int  # outbox events marked dispatched
    deliveries: int  # delivery rows created for them


_PG_FAN_OUT_LOCK = text(f"SELECT pg_try_advisory_xact_lock({_PG_FAN_OUT_LOCK_ID})")
# The oldest undispatched events, marked dispatched and returned in one statement (their rows locked
# until commit; on PostgreSQL rows another transaction holds are skipped). Driver-level
# (store/driver_sql.py), like the subscriptions read after it: a fan-out runs after most commits.
_DISPATCH = driver_sql.Sql(
    postgresql="""
    UPDATE outbox SET dispatched = true
    WHERE id IN (SELECT id FROM outbox WHERE dispatched = false ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING id, org_uuid, event_name, message_uuid
    """,
    sqlite="""
    UPDATE outbox SET dispatched = 1
    WHERE id IN (SELECT id FROM outbox WHERE dispatched = 0 ORDER BY id LIMIT ?)
    RETURNING id, org_uuid, event_name, message_uuid
    """,
)


async def fan_out(conn: AsyncConnection, now_ms: int, limit: int) -> FanOut:
    """Turn undispatched outbox events (up to `limit`, oldest first) into one delivery per matching
    subscription of their organization."""
    if conn.dialect.name == "postgresql":
        locked = await conn.scalar(_PG_FAN_OUT_LOCK)
        if not locked:
            return FanOut(0, 0)
    # RETURNING has no order: outbox order, by id
    events = sorted(
        (tuple(row) for row in await driver_sql.fetch(conn, _DISPATCH, [limit])), key=lambda e: e[0]
    )
    if not events:
        return FanOut(0, 0)
    subs = await subscription_store.list_for_orgs(conn, {org for _id, org, _name, _uuid in events})
    rows = [
        {
            "org_uuid": org,
            "subscription_uuid": s.uuid,
            "outbox_id": outbox_id,
            "message_uuid": message_uuid,
            "event_name": event_name,
            "state": PENDING,
            "attempts": 0,
            "failures": 0,
            "next_attempt_ms": now_ms,
            "created_ms": now_ms,
        }
        for outbox_id, org, event_name, message_uuid in events
        for s in subs
        if s.org_uuid == org and matches(s.event_names, event_name)
    ]
    if rows:
        await conn.execute(
            upsert(conn, deliveries).on_conflict_do_nothing(
                index_elements=["subscription_uuid", "message_uuid"]
            ),
            rows,
        )
    return FanOut(len(events), len(rows))


_CLAIMED_COLUMNS = (
    deliveries.c.id,
    deliveries.c.subscription_uuid,
    deliveries.c.outbox_id,
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
_CLAIMED_FROM = deliveries.join(
    subscriptions,
    (subscriptions.c.org_uuid == deliveries.c.org_uuid)
    & (subscriptions.c.uuid == deliveries.c.subscription_uuid),
).join(outbox, outbox.c.id == deliveries.c.outbox_id)

# A subscription is its organization and its UUID (UUIDs are unique per organization only).
SubscriptionKey = tuple[str, str]


def _claimed(r: Any) -> Claimed:
    return Claimed(
        delivery_id=int(r.id),
        subscription_uuid=r.subscription_uuid,
        outbox_id=int(r.outbox_id),
        destination=r.destination,
        signing_key=r.signing_key,
        failures=int(r.failures),
        message=Message(r.org_uuid, r.message_uuid, r.message_id, r.event_name, r.payload, r.timestamp),
    )


async def claim_due(
    conn: AsyncConnection,
    now_ms: int,
    lease_ms: int,
    limit: int,
    per_subscription: int = 1,
    exclude: Collection[SubscriptionKey] = (),
) -> list[Group]:
    """Lease due deliveries, grouped by subscription: each group starts with the subscription's
    oldest pending message and goes on with the pending messages after it, in order, up to
    `per_subscription` and up to the first one that is not due or is leased. Subscriptions in
    `exclude` (those the caller is still sending to) are left alone."""
    earlier = deliveries.alias("earlier")
    stmt = (
        select(*_CLAIMED_COLUMNS)
        .select_from(_CLAIMED_FROM)
        .where(
            deliveries.c.state == PENDING,
            deliveries.c.next_attempt_ms <= now_ms,
            or_(deliveries.c.lease_until_ms.is_(None), deliveries.c.lease_until_ms <= now_ms),
            ~exists().where(
                earlier.c.subscription_uuid == deliveries.c.subscription_uuid,
                earlier.c.org_uuid == deliveries.c.org_uuid,
                earlier.c.state == PENDING,
                earlier.c.outbox_id < deliveries.c.outbox_id,
            ),
        )
        .order_by(deliveries.c.next_attempt_ms, deliveries.c.id)
        .limit(limit)
    )
    if exclude:
        stmt = stmt.where(tuple_(deliveries.c.org_uuid, deliveries.c.subscription_uuid).not_in(list(exclude)))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=deliveries)
    heads = (await conn.execute(stmt)).all()
    if not heads:
        return []
    groups: dict[SubscriptionKey, list[Claimed]] = {
        (h.org_uuid, h.subscription_uuid): [_claimed(h)] for h in heads
    }
    if per_subscription > 1:
        await _add_followers(conn, groups, now_ms, per_subscription)
    ids = [c.delivery_id for group in groups.values() for c in group]
    lease_until_ms = now_ms + lease_ms
    # The heads are row-locked by this transaction; a follower leased meanwhile by another dispatcher
    # is impossible (its head is ours), but the UPDATE re-checks and a gap ends the group there.
    leased = set(
        (
            await conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.id.in_(ids),
                    deliveries.c.state == PENDING,
                    or_(deliveries.c.lease_until_ms.is_(None), deliveries.c.lease_until_ms <= now_ms),
                )
                .values(lease_until_ms=lease_until_ms)
                .returning(deliveries.c.id)
            )
        ).scalars()
    )
    out, release = [], []
    for (org_uuid, subscription_uuid), group in groups.items():
        cut = next((i for i, c in enumerate(group) if c.delivery_id not in leased), len(group))
        release += [c.delivery_id for c in group[cut:] if c.delivery_id in leased]
        if cut:
            out.append(Group(org_uuid, subscription_uuid, group[:cut], lease_until_ms))
    if release:
        await conn.execute(update(deliveries).where(deliveries.c.id.in_(release)).values(lease_until_ms=None))
    return out


async def _add_followers(
    conn: AsyncConnection, groups: dict[SubscriptionKey, list[Claimed]], now_ms: int, per_subscription: int
) -> None:
    """Append to each group the pending deliveries after its head, in outbox order, while they are due
    and not leased (a message waiting for its retry time stops the group: order is per subscription)."""
    ranked = (
        select(
            deliveries.c.id,
            func.row_number()
            .over(
                partition_by=[deliveries.c.org_uuid, deliveries.c.subscription_uuid],
                order_by=deliveries.c.outbox_id,
            )
            .label("rank"),
        )
        # By UUID (the index's prefix), then each group by its organization as well, below.
        .where(
            deliveries.c.subscription_uuid.in_(sorted({sub for _org, sub in groups})),
            deliveries.c.state == PENDING,
        )
        .subquery()
    )
    stmt = (
        select(*_CLAIMED_COLUMNS, deliveries.c.next_attempt_ms, deliveries.c.lease_until_ms, ranked.c.rank)
        .select_from(_CLAIMED_FROM.join(ranked, ranked.c.id == deliveries.c.id))
        .where(ranked.c.rank > 1, ranked.c.rank <= per_subscription)
        .order_by(outbox.c.org_uuid, deliveries.c.subscription_uuid, ranked.c.rank)
    )
    stopped: set[SubscriptionKey] = set()
    for r in (await conn.execute(stmt)).all():
        key = (r.org_uuid, r.subscription_uuid)
        group = groups.get(key)
        if group is None:  # another organization's subscription with the same UUID: not claimed
            continue
        if key in stopped or len(group) + 1 != r.rank:
            stopped.add(key)
            continue
        due = r.next_attempt_ms is not None and r.next_attempt_ms <= now_ms
        free = r.lease_until_ms is None or r.lease_until_ms <= now_ms
        if not (due and free):
            stopped.add(key)
            continue
        group.append(_claimed(r))


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


async def redeliver(uow: UnitOfWork, org: str, sub_uuid: str, message_uuid: str, now_ms: int) -> bool:
    """Queue the message for this subscription again, with a fresh retry schedule (the dispatchers are
    woken once the transaction commits)."""
    result = await uow.conn.execute(
        update(deliveries)
        .where(
            deliveries.c.org_uuid == org,
            deliveries.c.subscription_uuid == sub_uuid,
            deliveries.c.message_uuid == message_uuid,
        )
        .values(state=PENDING, failures=0, next_attempt_ms=now_ms)
    )
    if result.rowcount:
        uow.delivery_queued()
    return bool(result.rowcount)


async def depth(conn: AsyncConnection) -> int:
    """Events not yet fanned out plus deliveries not yet made (the outbox depth metric)."""
    undispatched = select(func.count()).select_from(outbox).where(outbox.c.dispatched.is_(False))
    pending = select(func.count()).select_from(deliveries).where(deliveries.c.state == PENDING)
    return int(await conn.scalar(select(undispatched.scalar_subquery() + pending.scalar_subquery())) or 0)
