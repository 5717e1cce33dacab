"""kill -9 under load with a webhook subscription: after restart every committed change is delivered."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.events.dispatcher import PER_SUBSCRIPTION_BATCH
from stockledger.events.schedule import SystemClock
from stockledger.store.db import Database
from stockledger.store.tables import deliveries, outbox
from stockledger.tokens import mint_access_token
from tests import server as real_server
from tests.conftest import TEST_SECRET
from tests.integration.webhooks_support import verify_like_a_foreign_receiver
from tests.reliability.test_crash import (
    LOAD_BEFORE_KILL_S,
    _setup,
    assert_nothing_lost_or_half_applied,
    load_then_kill,
)
from tests.webhook_receiver import Receiver, running_receiver

EVENT = "InventoryBalanceChanged"
DELIVERY_WAIT_S = 30.0  # bounded wait for the restarted server's dispatcher to catch up
# Info level: the servers log every request and every dispatcher line, which must hold no secret.
SERVER_ENV = {"STOCKLEDGER_LOG_LEVEL": "info"}


async def _subscribe(client: httpx.AsyncClient, receiver: Receiver) -> dict[str, Any]:
    response = await client.post(
        "/organizations/self/subscriptions",
        json={
            "uuid": str(uuid.uuid4()),
            "transportName": "WEBHOOK",
            "eventNames": [EVENT],
            "destination": receiver.url,
            "contactEmail": "ops@example.com",
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _committed_messages(db: Database, org: str) -> set[str]:
    """messageUuids of every InventoryBalanceChanged the database committed for the organization."""

    async def work(conn: AsyncConnection) -> set[str]:
        rows = await conn.execute(
            select(outbox.c.message_uuid).where(outbox.c.org_uuid == org, outbox.c.event_name == EVENT)
        )
        return {r[0] for r in rows.all()}

    return await db.read(work)


async def _let_dead_leases_run_out(db: Database, subscription: str) -> int:
    """The killed process held at most one batch of leases per subscription (LEASE_MS, 30 s): play
    that time forward instead of sleeping it. Returns how many leases were held."""
    now_ms = SystemClock().now_ms()

    async def work(conn: AsyncConnection) -> int:
        result = await conn.execute(
            update(deliveries)
            .where(
                deliveries.c.subscription_uuid == subscription,
                deliveries.c.state == "PENDING",
                deliveries.c.lease_until_ms > now_ms,
            )
            .values(lease_until_ms=now_ms)
        )
        return int(result.rowcount or 0)

    return await db.write(work)


def _received_by_message(receiver: Receiver, signing_key: str) -> dict[str, dict[str, Any]]:
    """Every event the receiver got, keyed by messageUuid, each signature checked on the raw bytes."""
    found: dict[str, dict[str, Any]] = {}
    for received in receiver.events():
        envelope = verify_like_a_foreign_receiver(
            received.body, received.headers["x-izettle-signature"], signing_key
        )
        assert envelope["eventName"] == EVENT
        if envelope["messageUuid"] in found:
            # At least once: a redelivery carries the byte-identical message.
            assert found[envelope["messageUuid"]]["raw"] == received.body
        found[envelope["messageUuid"]] = {**envelope, "raw": received.body}
    return found


async def crash_cycle_with_webhooks(
    database_url: str,
    db: Database,
    data_dir: Path,
    *,
    load_s: float = LOAD_BEFORE_KILL_S,
    wait_leases: bool = False,
) -> int:
    """Load a server with a subscriber, kill -9 it, restart it, and check ledger and deliveries.
    `wait_leases` waits the dead dispatcher's lease out in real time instead of playing it forward."""
    org, product = str(uuid.uuid4()), str(uuid.uuid4())
    token = mint_access_token(TEST_SECRET, org=org)
    headers = {"Authorization": f"Bearer {token}"}
    acknowledged: list[str] = []
    async with running_receiver() as receiver:
        server = real_server.start(database_url, data_dir, extra_env=SERVER_ENV)
        try:
            async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=10) as client:
                locs = await _setup(client, product)
                subscription = await _subscribe(client, receiver)
            await load_then_kill(server, token, product, locs, acknowledged, load_s)
        finally:
            server.kill()
        counts = await assert_nothing_lost_or_half_applied(db, org, acknowledged)
        committed = await _committed_messages(db, org)
        assert len(committed) == len(counts), "one event per committed request"

        if not wait_leases:
            assert await _let_dead_leases_run_out(db, subscription["uuid"]) <= PER_SUBSCRIPTION_BATCH
        with real_server.running(database_url, data_dir, extra_env=SERVER_ENV):
            deadline = time.monotonic() + DELIVERY_WAIT_S + (40.0 if wait_leases else 0.0)
            while time.monotonic() < deadline:
                if committed <= set(_received_by_message(receiver, subscription["signingKey"])):
                    break
                await asyncio.sleep(0.1)
        delivered = _received_by_message(receiver, subscription["signingKey"])

    missing = committed - set(delivered)
    assert not missing, f"{len(missing)} of {len(committed)} committed events were never delivered"
    assert set(delivered) == committed, "only committed changes produce events"
    externals = [json.loads(e["payload"])["externalUuid"] for e in delivered.values()]
    assert sorted(externals) == sorted(counts), "each committed request's event arrived, once per request"
    assert set(acknowledged) <= set(externals)
    logs = "".join(path.read_text(errors="replace") for path in data_dir.glob("serve-*.log"))
    assert '"logger": "stockledger.access"' in logs.replace('":"', '": "')
    for secret in (subscription["signingKey"], token.split(".")[2], TEST_SECRET):
        assert secret not in logs, "a secret reached the server's logs"
    return len(acknowledged)


async def test_kill_9_under_load_delivers_the_webhook_of_every_committed_change_after_restart(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    await crash_cycle_with_webhooks(database_url, db, tmp_path / "data")
