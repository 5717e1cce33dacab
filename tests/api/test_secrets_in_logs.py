"""Secrets never reach the logs: API keys, access tokens, webhook signing keys, the server secret."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from stockledger import logging_setup
from stockledger.cli import app as cli
from stockledger.domain.signing import signature
from stockledger.store.db import Database
from tests.api.purchase_helpers import FIXTURE_LINES, TEE, TEE_M, TEE_S, stock
from tests.conftest import TEST_SECRET, Api, new_uuid
from tests.integration.webhooks_support import BASE, Hooks, hooks
from tests.webhook_receiver import running_receiver

__all__ = ["hooks"]

NOISY = ("aiosqlite", "alembic", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx")

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ID = "5b0c1f6e-a110-11eb-8000-00000000c11e"  # client ids are UUIDs


def create_api_key(database_url: str, org: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["apikey", "create", "--org", org, "--database-url", database_url],
        env={"STOCKLEDGER_SECRET": TEST_SECRET},
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


async def test_api_keys_and_tokens_do_not_appear_in_logs(
    api: Api, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    key = await asyncio.to_thread(create_api_key, database_url, api.org)
    caplog.set_level(logging.DEBUG)
    granted = await api.client.post(
        "/token", data={"grant_type": JWT_BEARER, "client_id": CLIENT_ID, "assertion": key}
    )
    assert granted.status_code == 200
    access = granted.json()["access_token"]
    refused = await api.client.post(
        "/token", data={"grant_type": JWT_BEARER, "client_id": CLIENT_ID, "assertion": key[:-4] + "AAAA"}
    )
    assert refused.status_code == 400
    assert (
        await api.client.get("/inventory", headers={"Authorization": f"Bearer {access}"})
    ).status_code == 200
    assert (
        await api.client.get("/inventory", headers={"Authorization": f"Bearer {access}x"})
    ).status_code == 401
    # The key as a bearer token is refused, and its text is not echoed in the error either.
    as_bearer = await api.client.get("/inventory", headers={"Authorization": f"Bearer {key}"})
    assert as_bearer.status_code == 401
    assert key not in as_bearer.text

    logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert caplog.records, "requests were logged"
    for secret in (key, access, TEST_SECRET, key.split(".")[2], access.split(".")[2]):
        assert secret not in logged


async def test_request_ids_are_logged_but_not_authorization_headers(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    request_id = uuid.uuid4().hex
    token = api.token()
    response = await api.client.get(
        "/inventory", headers={"X-Request-ID": request_id, "Authorization": f"Bearer {token}"}
    )
    assert response.headers["x-request-id"] == request_id
    records = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert records, "the request's log lines carry its request id"
    logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert token.split(".")[2] not in logged


@pytest.fixture
def debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The server's own logging set up at its most verbose level (debug), captured by caplog."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in NOISY})
    logging_setup.configure("debug")
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    try:
        yield caplog
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's message and every attribute it carries (structured fields, exceptions)."""
    return "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)


async def test_webhook_signing_keys_never_appear_in_logs_even_when_deliveries_fail(
    api: Api, hooks: Hooks, debug_logging: pytest.LogCaptureFixture
) -> None:
    caplog = debug_logging
    answers = iter([200, 500, 503, 200])  # test message, two failed attempts, then success
    async with running_receiver(status_for=lambda _n: next(answers, 200)) as receiver:
        sub = await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        key = sub["signingKey"]
        await api.track(new_uuid())
        await hooks.dispatcher.drain()
        for _ in range(2):
            hooks.clock.advance(60)
            await hooks.dispatcher.drain()
        (event,) = receiver.events()[-1:]
        redelivered = await api.post(
            f"{BASE}/{sub['uuid']}/deliveries/{event.json()['messageUuid']}/redeliver"
        )
        await hooks.dispatcher.drain()
        listed = await api.get(BASE)
    assert redelivered.status_code < 500
    assert [e["state"] for e in await hooks.log(api, sub["uuid"])] == ["DELIVERED"]
    assert key in listed.text  # the owner may read it through the API …
    logged = logged_text(caplog)
    assert "webhook delivery failed" in logged, "the dispatcher's failure lines were captured"
    assert key not in logged  # … but it is never written to a log


async def test_deliveries_are_not_logged_per_request_nor_their_destination_urls(
    api: Api, hooks: Hooks, debug_logging: pytest.LogCaptureFixture
) -> None:
    caplog = debug_logging
    secret = secrets.token_urlsafe(24)
    async with running_receiver() as receiver:
        body = {
            "uuid": new_uuid(),
            "transportName": "WEBHOOK",
            "eventNames": ["InventoryTrackingStarted"],
            "destination": f"{receiver.url}?token={secret}",
            "contactEmail": "hooks@example.com",
        }
        assert (await api.post(BASE, json=body)).status_code == 200
        await api.track(new_uuid())
        await hooks.dispatcher.drain()
        assert len(receiver.events()) == 1
    assert caplog.records, "the requests were logged"
    assert not [r for r in caplog.records if r.name.startswith("httpx")]
    assert secret not in logged_text(caplog)


async def test_purchase_connection_keys_never_appear_in_logs_or_cli_output(
    api: Api, db: Database, database_url: str, debug_logging: pytest.LogCaptureFixture
) -> None:
    caplog = debug_logging
    key = secrets.token_urlsafe(48)
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["purchases", "connect", "--org", api.org, "--signing-key", key, "--database-url", database_url],
    )
    assert result.exit_code == 0, result.output
    assert key not in result.output
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))

    def envelope(event: str, payload: str) -> dict[str, str]:
        return {
            "organizationUuid": api.org,
            "messageUuid": str(uuid.uuid1()),
            "eventName": event,
            "messageId": str(uuid.uuid4()),
            "payload": payload,
            "timestamp": "2026-11-26T13:18:11.999Z",
        }

    async def deliver(body: dict[str, str], with_key: str) -> int:
        headers = {
            "Content-Type": "application/json",
            "X-iZettle-Signature": signature(with_key, body["timestamp"], body["payload"]),
        }
        response = await api.client.post(
            f"/webhooks/zettle/{api.org}", content=json.dumps(body), headers=headers
        )
        assert key not in response.text
        return response.status_code

    assert await deliver(envelope("PurchaseCreated", FIXTURE_LINES[0]), key) == 200
    assert await deliver(envelope("PurchaseCreated", FIXTURE_LINES[1]), key[::-1]) == 401
    # A test message signed with another key makes the server warn that the key is outdated.
    await deliver(envelope("TestMessage", json.dumps({"data": "payload"})), key[::-1])
    logged = logged_text(caplog)
    assert caplog.records, "the deliveries were logged"
    assert key not in logged
    assert key[::-1] not in logged
