"""Secrets never reach the logs: API keys, access tokens, webhook signing keys, the server secret."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from typer.testing import CliRunner

from stockledger.cli import app as cli
from tests.conftest import TEST_SECRET, Api

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


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
        "/token", data={"grant_type": JWT_BEARER, "client_id": "c", "assertion": key}
    )
    assert granted.status_code == 200
    access = granted.json()["access_token"]
    refused = await api.client.post(
        "/token", data={"grant_type": JWT_BEARER, "client_id": "c", "assertion": key[:-4] + "AAAA"}
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
