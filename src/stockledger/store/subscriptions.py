"""Subscriptions of the Pusher API: rows of the `subscriptions` table, always scoped by organization."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.subscriptions import Subscription
from stockledger.store import driver_sql
from stockledger.store.sql import upsert
from stockledger.store.tables import deliveries, subscriptions


def _of(row: RowMapping) -> Subscription:
    return Subscription(
        uuid=row["uuid"],
        org_uuid=row["org_uuid"],
        transport_name=row["transport_name"],
        event_names=list(orjson.loads(row["event_names"])),
        destination=row["destination"],
        contact_email=row["contact_email"],
        status=row["status"],
        signing_key=row["signing_key"],
        updated_ms=int(row["updated_ms"]),
    )


async def exists(conn: AsyncConnection, org: str, sub_uuid: str) -> bool:
    """Does the organization have a subscription with this UUID? (Other organizations' UUIDs are
    theirs: a UUID is unique per organization.)"""
    found = await conn.scalar(
        select(subscriptions.c.uuid).where(subscriptions.c.org_uuid == org, subscriptions.c.uuid == sub_uuid)
    )
    return found is not None


async def insert(conn: AsyncConnection, sub: Subscription) -> bool:
    """Store a new subscription; False when the organization already uses the UUID."""
    stmt = (
        upsert(conn, subscriptions)
        .values(
            uuid=sub.uuid,
            org_uuid=sub.org_uuid,
            transport_name=sub.transport_name,
            event_names=orjson.dumps(sub.event_names).decode(),
            destination=sub.destination,
            contact_email=sub.contact_email,
            status=sub.status,
            signing_key=sub.signing_key,
            created_ms=sub.updated_ms,
            updated_ms=sub.updated_ms,
        )
        .on_conflict_do_nothing(index_elements=["org_uuid", "uuid"])
        .returning(subscriptions.c.uuid)
    )
    if (await conn.execute(stmt)).first() is None:
        return False
    return True


async def get(conn: AsyncConnection, org: str, sub_uuid: str) -> Subscription | None:
    row = (
        (
            await conn.execute(
                select(subscriptions).where(subscriptions.c.org_uuid == org, subscriptions.c.uuid == sub_uuid)
            )
        )
        .mappings()
        .first()
    )
    return _of(row) if row is not None else None


async def list_for_org(conn: AsyncConnection, org: str) -> list[Subscription]:
    rows = await conn.execute(
        select(subscriptions)
        .where(subscriptions.c.org_uuid == org)
        .order_by(subscriptions.c.created_ms, subscriptions.c.uuid)
    )
    return [_of(row) for row in rows.mappings()]


_OF_ORGS = driver_sql.Sql(
    postgresql="""
    SELECT uuid, org_uuid, transport_name, event_names, destination, contact_email, status, signing_key,
           updated_ms
    FROM subscriptions WHERE org_uuid = ANY($1::varchar[])
    """,
    sqlite="""
    SELECT uuid, org_uuid, transport_name, event_names, destination, contact_email, status, signing_key,
           updated_ms
    FROM subscriptions WHERE org_uuid IN (SELECT value FROM json_each(?))
    """,
)


async def list_for_orgs(conn: AsyncConnection, orgs: set[str]) -> list[Subscription]:
    """Every subscription of these organizations, inside the connection's transaction. Driver-level
    (store/driver_sql.py): each webhook fan-out reads them."""
    if not orgs:
        return []
    rows = await driver_sql.fetch(conn, _OF_ORGS, [driver_sql.text_list(conn, sorted(orgs))])
    return [
        Subscription(
            uuid=uuid,
            org_uuid=org,
            transport_name=transport,
            event_names=list(orjson.loads(event_names)),
            destination=destination,
            contact_email=email,
            status=status,
            signing_key=key,
            updated_ms=int(updated_ms),
        )
        for uuid, org, transport, event_names, destination, email, status, key, updated_ms in rows
    ]


async def update_fields(conn: AsyncConnection, org: str, sub_uuid: str, values: dict[str, Any]) -> bool:
    """Change the given columns (event_names as a list); False when there is no such subscription."""
    if "event_names" in values:
        values = {**values, "event_names": orjson.dumps(values["event_names"]).decode()}
    result = await conn.execute(
        update(subscriptions)
        .where(subscriptions.c.org_uuid == org, subscriptions.c.uuid == sub_uuid)
        .values(**values)
    )
    return bool(result.rowcount)


async def set_status(conn: AsyncConnection, org: str, sub_uuid: str, status: str, at_ms: int) -> None:
    """ACTIVE/FAILING as deliveries succeed or fail; `updated` moves only when the status changes."""
    await conn.execute(
        update(subscriptions)
        .where(
            subscriptions.c.org_uuid == org,
            subscriptions.c.uuid == sub_uuid,
            subscriptions.c.status != status,
        )
        .values(status=status, updated_ms=at_ms)
    )


async def remove(conn: AsyncConnection, org: str, sub_uuid: str) -> bool:
    """Delete the subscription; its delivery log stays, its pending deliveries are cancelled."""
    result = await conn.execute(
        delete(subscriptions).where(subscriptions.c.org_uuid == org, subscriptions.c.uuid == sub_uuid)
    )
    if not result.rowcount:
        return False
    await conn.execute(
        update(deliveries)
        .where(
            deliveries.c.org_uuid == org,
            deliveries.c.subscription_uuid == sub_uuid,
            deliveries.c.state == "PENDING",
        )
        .values(state="CANCELLED", next_attempt_ms=None, lease_until_ms=None)
    )
    return True
