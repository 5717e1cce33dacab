"""Rules of Pusher subscriptions (spec §7): event names, their scopes, and the create/update checks."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from stockledger.domain.errors import ServiceError, Violation, forbidden, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.text import NUL_REFUSED, has_nul

TRANSPORT_WEBHOOK = "WEBHOOK"
STATUS_ACTIVE = "ACTIVE"
STATUS_FAILING = "FAILING"
MAX_EMAIL_LEN = 512  # spec §7
SIGNING_KEY_LEN = 64
_KEY_ALPHABET = string.ascii_letters + string.digits

# Every event name Zettle defines, with the scope a subscriber needs (None: only authentication).
EVENT_SCOPES: dict[str, str | None] = {
    "InventoryBalanceChanged": "READ:PRODUCT",
    "InventoryTrackingStarted": "READ:PRODUCT",
    "InventoryTrackingStopped": "READ:PRODUCT",
    "InventoryLowStock": "READ:PRODUCT",  # Extension, emitted by this service
    "PurchaseCreated": "READ:PURCHASE",
    "ProductCreated": "READ:PRODUCT",  # the Product Library's writes (service/products.py)
    "ProductUpdated": "READ:PRODUCT",
    "ProductDeleted": "READ:PRODUCT",
    # Zettle defines these; this service accepts subscriptions to them and never emits them.
    "OrganizationUpdated": None,
    "ApplicationConnectionRemoved": None,
    "PersonalAssertionDeleted": None,
}

# The WHATWG (HTML) definition of a valid e-mail address: what browsers' <input type=email> accept.
_EMAIL = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)


def new_signing_key() -> str:
    """A random 64-character alphanumeric key (spec §7)."""
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(SIGNING_KEY_LEN))


def matches(event_names: list[str], event_name: str) -> bool:
    """Does a subscription to `event_names` receive `event_name`? Empty means every event."""
    return not event_names or event_name in event_names


@dataclass(frozen=True)
class SubscriptionInput:
    """A validated create (every field set) or update (None = unchanged) request."""

    uuid: str | None
    transport_name: str | None
    event_names: list[str] | None
    destination: str | None
    contact_email: str | None


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation_error([Violation(name, "must be a string")])
    if has_nul(value):
        raise validation_error([Violation(name, NUL_REFUSED)])
    return value


def _event_names(body: dict[str, Any]) -> list[str] | None:
    value = body.get("eventNames")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation_error([Violation("eventNames", "must be an array of strings")])
    unknown = [
        Violation(f"eventNames[{i}]", f"unknown event {v}")
        for i, v in enumerate(value)
        if v not in EVENT_SCOPES
    ]
    if unknown:
        raise validation_error(unknown)
    return list(dict.fromkeys(value))


def _unprocessable(violations: list[Violation]) -> ServiceError:
    error = validation_error(violations)
    error.status = 422
    return error


def parse(body: dict[str, Any], *, creating: bool, destination_problem: Any) -> SubscriptionInput:
    """Check a request body. 400 for uuid/transport/event-name problems, then 422 for the
    destination and contact e-mail. `destination_problem(url)` says what is wrong with a URL."""
    violations: list[Violation] = []
    raw_uuid = body.get("uuid")
    sub_uuid = canonical_uuid(raw_uuid) if raw_uuid is not None else None
    if creating and raw_uuid is None:
        violations.append(Violation("uuid", "must not be null"))
    elif raw_uuid is not None and sub_uuid is None:
        violations.append(Violation("uuid", "must be a UUID"))
    transport = _string(body, "transportName")
    if creating and transport is None:
        violations.append(Violation("transportName", "must not be null"))
    elif transport is not None and transport != TRANSPORT_WEBHOOK:
        violations.append(Violation("transportName", "must be WEBHOOK"))
    if violations:
        raise validation_error(violations)
    event_names = _event_names(body)
    if creating and event_names is None:
        event_names = []

    destination = _string(body, "destination")
    email = _string(body, "contactEmail")
    problems: list[Violation] = []
    if destination is None:
        if creating:
            problems.append(Violation("destination", "must not be null"))
    else:
        problem = destination_problem(destination)
        if problem:
            problems.append(Violation("destination", problem))
    if email is None:
        if creating:
            problems.append(Violation("contactEmail", "must not be null"))
    elif len(email) > MAX_EMAIL_LEN:
        problems.append(Violation("contactEmail", f"must be at most {MAX_EMAIL_LEN} characters"))
    elif not _EMAIL.match(email):
        problems.append(Violation("contactEmail", "must be a valid e-mail address"))
    if problems:
        raise _unprocessable(problems)
    return SubscriptionInput(sub_uuid, transport, event_names, destination, email)


def check_scopes(event_names: list[str], scopes: frozenset[str]) -> None:
    """Subscribing to an event needs its scope; an empty list (every event) needs all of them."""
    wanted = event_names or list(EVENT_SCOPES)
    missing = sorted({s for name in wanted if (s := EVENT_SCOPES[name]) is not None and s not in scopes})
    if missing:
        raise forbidden(f"Missing scope {' '.join(missing)} for the subscribed events")


@dataclass(frozen=True)
class Subscription:
    uuid: str
    org_uuid: str
    transport_name: str
    event_names: list[str]
    destination: str
    contact_email: str
    status: str
    signing_key: str
    updated_ms: int
