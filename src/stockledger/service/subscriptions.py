"""Use cases of the Pusher API (spec §7): create (with its test message), list, update, delete,
the delivery log and manual redelivery."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain import event_payloads
from stockledger.domain import subscriptions as rules
from stockledger.domain.errors import ServiceError
from stockledger.domain.ids import new_uuid1
from stockledger.domain.subscriptions import Subscription
from stockledger.events import destinations
from stockledger.events.delivery import Deliverer
from stockledger.service.context import Actor
from stockledger.store import deliveries, outbox, subscriptions
from stockledger.store.db import Database

# the delivery log this service returns, named here so that api/ and web/ need not import store/
from stockledger.store.deliveries import LogEntry as LogEntry
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim

MAX_LOG_LIMIT = 1000


def not_found(sub_uuid: str) -> ServiceError:
    return ServiceError(f"Subscription {sub_uuid} not found", 404, "SUBSCRIPTION_NOT_FOUND")


def already_exists(sub_uuid: str) -> ServiceError:
    return ServiceError(f"Subscription {sub_uuid} already exists", 400, "SUBSCRIPTION_ALREADY_EXIST")


def _destination_problem(allow_private: bool) -> Any:
    def problem(url: str) -> str | None:
        return destinations.check_scheme(url, allow_private)

    return problem


async def create(
    db: Database, deliverer: Deliverer, actor: Actor, body: dict[str, Any], claim: WriteClaim | None = None
) -> Subscription:
    """Validate, check scopes and UUID, send the (signed) test message; store only if it was
    answered 2xx."""
    data = rules.parse(body, creating=True, destination_problem=_destination_problem(deliverer.allow_private))
    assert data.uuid and data.transport_name and data.destination and data.contact_email
    assert data.event_names is not None
    rules.check_scopes(data.event_names, actor.scopes)
    sub_uuid = data.uuid

    async def used(conn: AsyncConnection) -> bool:
        return await subscriptions.exists(conn, actor.org, sub_uuid)

    if await db.read(used):
        raise already_exists(sub_uuid)
    # The key exists before the test message, which is signed with it like every later message.
    signing_key = rules.new_signing_key()
    message_uuid = new_uuid1()
    test = event_payloads.subscription_test_message(
        actor.org, message_uuid, outbox.message_id_for(message_uuid), now_ms()
    )
    outcome = await deliverer.deliver(data.destination, test, signing_key)
    if not outcome.ok:
        if outcome.status is None:
            raise ServiceError(
                f"Destination is not accessible: {outcome.detail}", 400, "DESTINATION_NOT_ACCESSIBLE"
            )
        raise ServiceError(
            f"Destination responded with error code {outcome.status}",
            400,
            "DESTINATION_RESPONDED_WITH_ERROR_CODE",
        )
    sub = Subscription(
        uuid=sub_uuid,
        org_uuid=actor.org,
        transport_name=data.transport_name,
        event_names=data.event_names,
        destination=data.destination,
        contact_email=data.contact_email,
        status=rules.STATUS_ACTIVE,
        signing_key=signing_key,
        updated_ms=now_ms(),
    )

    async def store(conn: AsyncConnection) -> bool:
        return await subscriptions.insert(conn, sub)

    if not await db.write(store, claim=claim):
        raise already_exists(sub_uuid)
    return sub


async def list_all(db: Database, actor: Actor) -> list[Subscription]:
    async def work(conn: AsyncConnection) -> list[Subscription]:
        return await subscriptions.list_for_org(conn, actor.org)

    return await db.read(work)


async def update(
    db: Database,
    actor: Actor,
    sub_uuid: str,
    body: dict[str, Any],
    deliverer: Deliverer,
    claim: WriteClaim | None = None,
) -> None:
    """Change any of transportName, eventNames, destination, contactEmail (the destination checked by
    the rules of `deliverer`, as at creation and delivery)."""
    allow_private = deliverer.allow_private
    data = rules.parse(body, creating=False, destination_problem=_destination_problem(allow_private))
    if data.event_names is not None:
        rules.check_scopes(data.event_names, actor.scopes)
    if data.destination is not None:
        # No test message on update (spec §7), but the address is checked as at creation: a
        # subscription must not be moved to a private or loopback address.
        try:
            await destinations.pin(data.destination, allow_private, deliverer.resolve)
        except destinations.DestinationBlocked as exc:
            raise ServiceError(
                f"Destination is not accessible: {exc}", 400, "DESTINATION_NOT_ACCESSIBLE"
            ) from None
    values: dict[str, Any] = {"updated_ms": now_ms()}
    if data.transport_name is not None:
        values["transport_name"] = data.transport_name
    if data.event_names is not None:
        values["event_names"] = data.event_names
    if data.destination is not None:
        values["destination"] = data.destination
    if data.contact_email is not None:
        values["contact_email"] = data.contact_email

    async def work(conn: AsyncConnection) -> bool:
        return await subscriptions.update_fields(conn, actor.org, sub_uuid, values)

    if not await db.write(work, claim=claim):
        raise not_found(sub_uuid)


async def delete(db: Database, actor: Actor, sub_uuid: str, claim: WriteClaim | None = None) -> None:
    async def work(conn: AsyncConnection) -> bool:
        return await subscriptions.remove(conn, actor.org, sub_uuid)

    if not await db.write(work, claim=claim):
        raise not_found(sub_uuid)


async def delivery_log(db: Database, actor: Actor, sub_uuid: str, limit: int) -> list[deliveries.LogEntry]:
    async def work(conn: AsyncConnection) -> list[deliveries.LogEntry] | None:
        entries = await deliveries.log_for(conn, actor.org, sub_uuid, min(max(limit, 1), MAX_LOG_LIMIT))
        if not entries and await subscriptions.get(conn, actor.org, sub_uuid) is None:
            return None
        return entries

    found = await db.read(work)
    if found is None:
        raise not_found(sub_uuid)
    return found


async def redeliver(
    db: Database, actor: Actor, sub_uuid: str, message_uuid: str, claim: WriteClaim | None = None
) -> None:
    """Send a logged message again (identical body and signature), on a fresh retry schedule."""

    async def work(uow: UnitOfWork) -> str | None:
        if await subscriptions.get(uow.conn, actor.org, sub_uuid) is None:
            return "subscription"
        if not await deliveries.redeliver(uow, actor.org, sub_uuid, message_uuid, now_ms()):
            return "message"
        return None

    missing = await db.unit_of_work(work, claim=claim)
    if missing == "subscription":
        raise not_found(sub_uuid)
    if missing == "message":
        raise ServiceError(f"No delivery of message {message_uuid}", 404, "ENTITY_NOT_FOUND")
