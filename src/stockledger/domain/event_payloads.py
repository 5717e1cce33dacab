"""Event payloads of the Pusher API (spec §7), built as plain dicts; no I/O."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stockledger.domain.changes import BalanceKey
from stockledger.domain.quantity import format_units


@functools.lru_cache(maxsize=256)
def _second(s: int) -> str:
    """`2026-11-26T13:18:11.` for the second `s` since the epoch (events come in bursts per second)."""
    return datetime.fromtimestamp(s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")


def payload_timestamp(ms: int) -> str:
    """Timestamps inside payloads: 2026-11-26T13:18:11.966+0000."""
    return f"{_second(ms // 1000)}{ms % 1000:03d}+0000"


def envelope_timestamp(ms: int) -> str:
    """The envelope's timestamp: 2026-11-26T13:18:11.999Z."""
    return f"{_second(ms // 1000)}{ms % 1000:03d}Z"


@dataclass(frozen=True)
class ChangeInfo:
    """Who changed something: the `updated` / `created` / `changeInformation` object."""

    user_uuid: str
    user_type: str  # "USER" or "SYSTEM"
    client_uuid: str | None
    at_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.user_uuid,
            "timestamp": payload_timestamp(self.at_ms),
            "userType": self.user_type,
            "clientUuid": self.client_uuid,
        }


def balance_record(org: str, location: str, product: str, variant: str, balance: str) -> dict[str, Any]:
    return {
        "organizationUuid": org,
        "locationUuid": location,
        "productUuid": product,
        "variantUuid": variant,
        "balance": balance,
    }


def inventory_balance_changed(
    org: str,
    info: ChangeInfo,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    external_uuid: str | None,
) -> dict[str, Any]:
    created = payload_timestamp(info.at_ms)
    return {
        "organizationUuid": org,
        "updated": info.to_json(),
        "balanceBefore": before,
        "balanceAfter": [
            {
                **{k: v for k, v in rec.items() if k != "balance"},
                "created": created,
                "balance": rec["balance"],
            }
            for rec in after
        ],
        "externalUuid": external_uuid,
    }


def balance_changed(
    org: str,
    info: ChangeInfo,
    changed: Mapping[BalanceKey, tuple[int, int]],
    stores: Set[str],
    external_uuid: str | None,
) -> dict[str, Any] | None:
    """The InventoryBalanceChanged payload of one request: the balances of STORE-type locations it
    changed, (before, after) units per balance; None when it changed none."""
    before, after = [], []
    for (location, product, variant), (units_before, units_after) in changed.items():
        if location in stores and units_before != units_after:
            before.append(balance_record(org, location, product, variant, format_units(units_before)))
            after.append(balance_record(org, location, product, variant, format_units(units_after)))
    return inventory_balance_changed(org, info, before, after, external_uuid) if after else None


def inventory_tracking_started(org: str, product: str, info: ChangeInfo) -> dict[str, Any]:
    return {"organizationUuid": org, "productUuid": product, "created": info.to_json()}


def inventory_tracking_stopped(org: str, product: str, info: ChangeInfo) -> dict[str, Any]:
    return {"organizationUuid": org, "productUuid": product, "changeInformation": info.to_json()}


@dataclass(frozen=True)
class Message:
    """An outbox event as it is delivered: the payload and timestamp are the exact signed texts."""

    org_uuid: str
    message_uuid: str
    message_id: str
    event_name: str
    payload: str
    timestamp: str


TEST_MESSAGE = "TestMessage"
TEST_MESSAGE_PAYLOAD = '{"data":"payload"}'  # Zettle's text, byte for byte: receivers compare it


def subscription_test_message(org: str, message_uuid: str, message_id: str, at_ms: int) -> Message:
    """The message sent to a new subscription's destination: a full envelope like every other
    message (its payload a JSON string), so it is signed like them."""
    return Message(
        org, message_uuid, message_id, TEST_MESSAGE, TEST_MESSAGE_PAYLOAD, envelope_timestamp(at_ms)
    )
