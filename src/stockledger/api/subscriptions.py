"""Routes of the Pusher API (spec §7): subscriptions, and the delivery log extension."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from starlette.responses import Response

from stockledger.api import idempotency
from stockledger.api.auth import authenticate, bearer, check_org
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS, Wire
from stockledger.domain.errors import forbidden
from stockledger.domain.event_payloads import envelope_timestamp
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.subscriptions import Subscription
from stockledger.events.delivery import Deliverer
from stockledger.events.dispatcher import Dispatcher
from stockledger.plumbing import READ_PRODUCT, READ_PURCHASE, Database, app_state
from stockledger.service import subscriptions as service
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Subscriptions"])
BASE = "/organizations/{org}/subscriptions"


@dataclass
class WebhookRuntime:
    """The deliverer used for test messages and the in-process dispatcher, if one runs."""

    deliverer: Deliverer
    dispatcher: Dispatcher | None = None


def install(app: FastAPI, db: Database, *, allow_private: bool, run_dispatcher: bool) -> WebhookRuntime:
    """Mount the routes and keep the runtime on the app; the lifespan starts the dispatcher."""
    runtime = WebhookRuntime(Deliverer(allow_private=allow_private))
    if run_dispatcher:
        runtime.dispatcher = Dispatcher(db, Deliverer(allow_private=allow_private))
    app.state.webhooks = runtime
    app.include_router(router)
    return runtime


def runtime_of(request: Request) -> WebhookRuntime:
    runtime: WebhookRuntime = request.app.state.webhooks
    return runtime


@bearer
async def subscriber(request: Request) -> Actor:
    """Subscriptions are read scopes' business: the token needs READ:PRODUCT or READ:PURCHASE
    (each event subscribed to is then checked against its own scope)."""
    actor = await authenticate(request)
    check_org(actor, request.path_params.get("org"))
    app_state(request).rate_limiter.check(actor.org)
    if not actor.scopes & {READ_PRODUCT, READ_PURCHASE}:
        raise forbidden(f"Missing scope {READ_PRODUCT} or {READ_PURCHASE}")
    await idempotency.admit(request, actor.org)  # last: a replay is for admitted callers only
    return actor


Subscriber = Depends(subscriber)


class SubscriptionIn(Wire):
    uuid: Any = None
    transportName: Any = None
    eventNames: Any = None
    destination: Any = None
    contactEmail: Any = None


class SubscriptionOut(Wire):
    uuid: str
    transportName: str
    eventNames: list[str]
    updated: str
    destination: str
    contactEmail: str
    status: str
    signingKey: str


class DeliveryOut(Wire):
    messageUuid: str
    messageId: str
    eventName: str
    state: str
    attempts: int
    lastStatus: str | None
    lastAttempt: str | None
    nextAttempt: str | None
    created: str


def _time(ms: int | None) -> str | None:
    return envelope_timestamp(ms) if ms is not None else None


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "uuid": sub.uuid,
        "transportName": sub.transport_name,
        "eventNames": sub.event_names,
        "updated": envelope_timestamp(sub.updated_ms),
        "destination": sub.destination,
        "contactEmail": sub.contact_email,
        "status": sub.status,
        "signingKey": sub.signing_key,
    }


def delivery_json(entry: service.LogEntry) -> dict[str, Any]:
    return {
        "messageUuid": entry.message_uuid,
        "messageId": entry.message_id,
        "eventName": entry.event_name,
        "state": entry.state,
        "attempts": entry.attempts,
        "lastStatus": entry.last_status,
        "lastAttempt": _time(entry.last_attempt_ms),
        "nextAttempt": _time(entry.next_attempt_ms),
        "created": envelope_timestamp(entry.created_ms),
    }


def _sub_uuid(value: str) -> str:
    canonical = canonical_uuid(value)
    if canonical is None:
        raise service.not_found(value)
    return canonical


@router.post(BASE, response_model=SubscriptionOut)
async def create_subscription(
    request: Request, org: str, body: SubscriptionIn, actor: Actor = Subscriber
) -> Response:
    sub = await service.create(
        app_state(request).db,
        runtime_of(request).deliverer,
        actor,
        body.model_dump(exclude_unset=True),
        claim=idempotency.claim_of(request),
    )
    return json_response(subscription_json(sub))


@router.get(BASE, response_model=list[SubscriptionOut])
async def list_subscriptions(request: Request, org: str, actor: Actor = Subscriber) -> Response:
    found = await service.list_all(app_state(request).db, actor)
    return json_response([subscription_json(sub) for sub in found])


@router.put(
    BASE + "/{uuid}",
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Updated; the answer has no body (as in Zettle)"}},
)
async def update_subscription(
    request: Request, org: str, uuid: str, body: SubscriptionIn, actor: Actor = Subscriber
) -> Response:
    state = app_state(request)
    await service.update(
        state.db,
        actor,
        _sub_uuid(uuid),
        body.model_dump(exclude_unset=True),
        runtime_of(request).deliverer,  # the same rules as creation and delivery
        claim=idempotency.claim_of(request),
    )
    return Response(status_code=200)


@router.delete(BASE + "/{uuid}", status_code=204)
# Zettle documents both spellings
@router.delete(BASE + "/uuid/{uuid}", status_code=204, operation_id="deleteSubscriptionByUuidPath")
async def delete_subscription(request: Request, org: str, uuid: str, actor: Actor = Subscriber) -> Response:
    await service.delete(app_state(request).db, actor, _sub_uuid(uuid), claim=idempotency.claim_of(request))
    return Response(status_code=204)


@router.get(BASE + "/{uuid}/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(
    request: Request,
    org: str,
    uuid: str,
    limit: int = Query(100, ge=1, le=service.MAX_LOG_LIMIT),
    actor: Actor = Subscriber,
) -> Response:
    """Extension: the delivery log, newest message first."""
    entries = await service.delivery_log(app_state(request).db, actor, _sub_uuid(uuid), limit)
    return json_response([delivery_json(entry) for entry in entries])


@router.post(
    BASE + "/{uuid}/deliveries/{messageUuid}/redeliver",
    status_code=202,
    response_class=Response,
    responses={202: {"description": "Queued for delivery; the answer has no body"}},
)
async def redeliver(
    request: Request, org: str, uuid: str, messageUuid: str, actor: Actor = Subscriber
) -> Response:
    """Extension: deliver a logged message again (identical body and signature)."""
    message_uuid = canonical_uuid(messageUuid) or messageUuid
    # The commit wakes the dispatchers, of this process and (PostgreSQL) of the others.
    await service.redeliver(
        app_state(request).db, actor, _sub_uuid(uuid), message_uuid, claim=idempotency.claim_of(request)
    )
    return Response(status_code=202)
