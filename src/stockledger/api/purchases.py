"""Routes of spec §9: purchases from a point of sale, and the receiver of Zettle's own PurchaseCreated."""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from stockledger.api.auth import requires
from stockledger.api.idempotency import claim_of
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS, Wire
from stockledger.domain.errors import ServiceError, Violation, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.signing import SIGNATURE_HEADER, verify
from stockledger.exact_json import loads_exact
from stockledger.plumbing import WRITE_PURCHASE, app_state
from stockledger.service import purchases
from stockledger.service.context import Actor
from stockledger.service.purchases import Channel, Recorded

log = logging.getLogger("stockledger.purchases")
router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Purchases"])

REPLAYED_HEADER = "Idempotent-Replayed"
TEST_MESSAGE = "TestMessage"


class AppliedLineOut(Wire):
    index: int
    productUuid: str
    variantUuid: str
    fromLocationUuid: str
    toLocationUuid: str
    change: str


class SkippedLineOut(Wire):
    index: int
    productUuid: str | None = None
    reason: Literal["NO_PRODUCT", "NOT_TRACKED", "ZERO_QUANTITY"]


class PurchaseResultOut(Wire):
    purchaseUuid: str
    applied: list[AppliedLineOut]
    skipped: list[SkippedLineOut]


_UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
_QUANTITY: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d{1,3})?$"}]
}
# The document is validated by the domain (the same rules for the API, the receiver and the import),
# so its schema is declared for the documentation only.
PURCHASE_DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["purchaseUuid", "products"],
    "additionalProperties": True,
    "properties": {
        "purchaseUuid": _UUID,
        "userUuid": _UUID,
        "refund": {"type": "boolean"},
        "created": {"type": "string"},
        "products": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": True,
                "properties": {
                    "productUuid": _UUID,
                    "variantUuid": _UUID,
                    "quantity": _QUANTITY,
                    "fromLocationUuid": _UUID,
                    "toLocationUuid": _UUID,
                },
            },
        },
    },
}
ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["eventName"],
    "additionalProperties": True,
    "properties": {
        "organizationUuid": _UUID,
        "messageUuid": _UUID,
        "eventName": {"type": "string"},
        "messageId": _UUID,
        "payload": {"type": "string", "description": "the purchase document as a JSON string"},
        "timestamp": {"type": "string"},
    },
}


def _body_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _answer(recorded: Recorded) -> Response:
    headers = {REPLAYED_HEADER: "true"} if recorded.replayed else {}
    return json_response(recorded.result, 200, headers)


def _parse(text: bytes | str, path: str) -> Any:
    try:
        return loads_exact(text)
    except json.JSONDecodeError as exc:
        raise validation_error([Violation(path, f"malformed JSON: {exc.msg}")]) from None


def _received_text(body: bytes) -> str | None:
    """The document's text to keep as received: UTF-8 (a byte-order mark aside), else None (the
    parsed document is kept instead)."""
    try:
        return body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None


def _signature_rejected(message: str) -> ServiceError:
    # Not a bearer-token route: no WWW-Authenticate challenge.
    return ServiceError(message, 401, "UNAUTHENTICATED")


@router.post(
    "/organizations/{org}/purchases",
    response_model=PurchaseResultOut,
    openapi_extra=_body_of(PURCHASE_DOCUMENT_SCHEMA),
)
async def record_purchase(
    request: Request, org: str, actor: Actor = Depends(requires(WRITE_PURCHASE))
) -> Response:
    """Record a sale (or refund) of the point of sale; stock of tracked products moves by itself.

    Idempotent per purchaseUuid: a second submission changes nothing and answers the first result
    (with `Idempotent-Replayed: true`)."""
    state = app_state(request)
    body = await request.body()
    recorded = await purchases.record(
        state.db,
        actor.org,
        _parse(body, ""),
        received=_received_text(body),
        channel=Channel.API,
        fallback_user=actor.sub,
        client_id=actor.client_id,
        max_lines=state.settings.max_changes,
        default_low_stock_units=state.default_low_stock_units,
        claim=claim_of(request),
    )
    return _answer(recorded)


@router.post(
    "/webhooks/zettle/{org}",
    response_model=PurchaseResultOut,
    responses={204: {"description": "TestMessage, or an event other than PurchaseCreated: ignored"}},
    openapi_extra=_body_of(ENVELOPE_SCHEMA),
)
async def zettle_webhook(request: Request, org: str) -> Response:
    """Receiver of Zettle's Pusher deliveries of PurchaseCreated, verified by X-iZettle-Signature.

    The organization's signing key is configured with `stockledger purchases connect`. TestMessage
    is always answered 204 (Zettle sends it while the subscription is being created, before its
    signing key can be configured); other events than PurchaseCreated are verified, then ignored."""
    envelope = _parse(await request.body(), "")
    if not isinstance(envelope, dict):
        raise validation_error([Violation("", "must be a JSON object")])
    org_uuid = canonical_uuid(org)
    state = app_state(request)
    key = await purchases.signing_key(state.db, org_uuid) if org_uuid else None
    received = request.headers.get(SIGNATURE_HEADER)
    timestamp, payload = envelope.get("timestamp"), envelope.get("payload")
    signed = isinstance(timestamp, str) and isinstance(payload, str)

    if envelope.get("eventName") == TEST_MESSAGE:
        if key and received and not (signed and verify(key, str(timestamp), str(payload), received)):
            log.warning(
                "TestMessage signature does not match the connected signing key; "
                "run `stockledger purchases connect` with the new subscription's key",
                extra={"org": org_uuid},
            )
        return Response(status_code=204)
    if key is None:
        raise _signature_rejected("No purchase connection for this organization")
    if not received:
        raise _signature_rejected(f"Missing {SIGNATURE_HEADER} header")
    if not signed or not verify(key, str(timestamp), str(payload), received):
        raise _signature_rejected(f"{SIGNATURE_HEADER} does not match")
    if envelope.get("eventName") != purchases.PURCHASE_CREATED:
        return Response(status_code=204)
    assert org_uuid is not None
    recorded = await purchases.record(
        state.db,
        org_uuid,
        _parse(str(payload), "payload"),
        received=str(payload),
        channel=Channel.WEBHOOK,
        fallback_user=org_uuid,
        max_lines=state.settings.max_changes,
        default_low_stock_units=state.default_low_stock_units,
    )
    return _answer(recorded)
