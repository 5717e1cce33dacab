"""Recording purchases of a point of sale (spec §9): stock moves by itself when a sale is recorded.

One purchase = one transaction under the organization lock: look up the purchase UUID, and if it is
new apply its movements (source PURCHASE, the purchase UUID as externalUuid, a SYSTEM actor), append
`PurchaseCreated` to the outbox and store the answer with the document as received (the Purchase
API reads it back, service/purchase_reads.py). A second submission finds the stored answer and
changes nothing; two concurrent submissions queue on the lock, so exactly one applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.changes import Source
from stockledger.domain.ledger import Request
from stockledger.domain.locations import LocationType
from stockledger.domain.purchase_fields import recorded_fields
from stockledger.domain.purchases import parse_purchase, plan_purchase, publishable
from stockledger.service import catalog, organizations, posting
from stockledger.service.context import Actor
from stockledger.store import locations, orgs, outbox, purchases, write_path
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim

PURCHASE_CREATED = "PurchaseCreated"
SYSTEM = "SYSTEM"


class Channel(StrEnum):
    """How a purchase reached the service (kept with the record, for the audit)."""

    API = "API"
    WEBHOOK = "WEBHOOK"
    IMPORT = "IMPORT"


@dataclass(frozen=True)
class Recorded:
    """The answer `{"purchaseUuid","applied","skipped"}` and whether it is a replay of an earlier one."""

    result: dict[str, Any]
    replayed: bool


async def record(
    db: Database,
    org: str,
    document: Any,
    *,
    channel: Channel,
    fallback_user: str,
    client_id: str | None = None,
    max_lines: int,
    default_low_stock_units: int,
    claim: WriteClaim | None = None,
    received: str | None = None,
) -> Recorded:
    """Record one purchase document (decimals parsed exactly); invalid → 400 and nothing changes.

    The events name the purchase's `userUuid` (the cashier) when it has one, else `fallback_user`
    (the token's subject, or the organization for deliveries that carry no user). `received` is the
    document's JSON text as it arrived, kept as it is; without it the parsed document is kept.
    """
    payload = publishable(document)
    purchase = parse_purchase(document, max_lines=max_lines)
    kept = received if received is not None else orjson.dumps(payload).decode()
    actor = Actor(org, purchase.user_uuid or fallback_user, client_id, user_type=SYSTEM)
    await organizations.ensure(db, org)

    async def work(uow: UnitOfWork) -> Recorded:
        conn = uow.conn
        await orgs.lock(conn, org)
        stored = await purchases.stored_result(conn, org, purchase.purchase_uuid)
        if stored is not None:
            return Recorded(stored, replayed=True)
        wanted = (line.product_uuid for line in purchase.lines if line.product_uuid)
        prelude = await write_path.prelude(conn, org, wanted)
        all_locations = prelude.locations
        sold = locations.by_type(all_locations, LocationType.SOLD)
        assert sold is not None, "every organization has a SOLD location"
        plan = plan_purchase(
            purchase,
            tracked=prelude.tracked,
            known_locations={location.uuid for location in all_locations},
            store=locations.default_store(all_locations).uuid,
            sold=sold.uuid,
        )
        at_ms = now_ms()
        sale = posting.Posting(actor, Request(plan.changes), purchase.purchase_uuid)
        await posting.post(
            uow,
            org,
            [sale],
            prelude,
            source=Source.PURCHASE,
            at_ms=at_ms,
            default_low_stock_units=default_low_stock_units,
        )
        await outbox.append(uow, org, PURCHASE_CREATED, payload, at_ms)
        await catalog.remember_from_purchase(conn, org, document)  # names for the back office
        result = plan.result(purchase.purchase_uuid)
        fields = recorded_fields(document, purchase.purchase_uuid)
        number, stamp = fields.purchase_number, fields.timestamp_ms
        new = purchases.NewPurchase(
            purchase.purchase_uuid,
            channel.value,
            result,
            kept,
            at_ms if stamp is None else stamp,
            await purchases.next_number(conn, org) if number is None else number,
            fields.refunds_purchase_uuid,
        )
        await purchases.insert(conn, org, new, at_ms)
        return Recorded(result, replayed=False)

    return await db.unit_of_work(work, claim=claim)


async def connect(db: Database, org: str, signing_key: str) -> None:
    """Configure (or replace) the signing key that verifies Zettle's deliveries to the receiver."""

    async def work(conn: AsyncConnection) -> None:
        await purchases.set_signing_key(conn, org, signing_key, now_ms())

    await db.write(work)


async def signing_key(db: Database, org: str) -> str | None:
    async def work(conn: AsyncConnection) -> str | None:
        return await purchases.signing_key(conn, org)

    return await db.read(work)
