"""Helpers of the webhook delivery tests: a dispatcher on a manual clock, subscribing, verifying."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest_asyncio
from sqlalchemy import update

from stockledger.events.delivery import Deliverer
from stockledger.events.dispatcher import Dispatcher
from stockledger.events.schedule import SystemClock
from stockledger.store.db import Database
from stockledger.store.tables import deliveries, subscriptions
from tests.conftest import Api, new_uuid
from tests.webhook_clock import ManualClock
from tests.webhook_receiver import Receiver

BASE = "/organizations/self/subscriptions"


def verify_like_a_foreign_receiver(
    raw_body: bytes, signature_header: str, signing_key: str
) -> dict[str, Any]:
    """What a receiver in any language does: parse the raw bytes, take the `timestamp` and `payload`
    field texts, HMAC-SHA256 them with the key, compare with the header. Returns the envelope."""
    envelope = json.loads(raw_body.decode("utf-8"))
    message = (envelope["timestamp"] + "." + envelope["payload"]).encode("utf-8")
    expected = hmac.new(signing_key.encode("utf-8"), message, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, signature_header), "signature does not verify"
    return dict(envelope)


def ms_of(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class Hooks:
    """A dispatcher driven by hand on a manual clock, and the subscriptions a test created."""

    db: Database
    clock: ManualClock
    dispatcher: Dispatcher
    created: list[str] = field(default_factory=list)

    async def subscribe(
        self, api: Api, receiver: Receiver, events: list[str] | None = None, uuid: str | None = None
    ) -> dict[str, Any]:
        body = {
            "uuid": uuid or new_uuid(),
            "transportName": "WEBHOOK",
            "eventNames": events if events is not None else [],
            "destination": receiver.url,
            "contactEmail": "hooks@example.com",
        }
        response = await api.post(BASE, json=body)
        assert response.status_code == 200, response.text
        self.created.append(body["uuid"])
        return dict(response.json())

    def catch_up_with_wall_clock(self) -> None:
        self.clock.set_ms(max(self.clock.now_ms(), SystemClock().now_ms()))

    def new_dispatcher(self, **options: Any) -> Dispatcher:
        return Dispatcher(self.db, Deliverer(allow_private=True), clock=self.clock, **options)

    async def log(self, api: Api, sub_uuid: str) -> list[dict[str, Any]]:
        response = await api.get(f"{BASE}/{sub_uuid}/deliveries")
        assert response.status_code == 200, response.text
        return list(response.json())


@pytest_asyncio.fixture(loop_scope="session")
async def hooks(db: Database) -> AsyncIterator[Hooks]:
    clock = ManualClock()
    dispatcher = Dispatcher(db, Deliverer(allow_private=True), clock=clock)
    state = Hooks(db, clock, dispatcher)
    yield state
    await dispatcher.stop(grace_s=0)

    async def forget(conn: Any) -> None:
        # Later tests share the database: leave no pending delivery to a receiver that is gone.
        if state.created:
            await conn.execute(subscriptions.delete().where(subscriptions.c.uuid.in_(state.created)))
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.subscription_uuid.in_(state.created), deliveries.c.state == "PENDING")
                .values(state="CANCELLED", next_attempt_ms=None)
            )

    await db.write(forget)
