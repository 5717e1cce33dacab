"""Helpers of the client-conformance tests of authentication: a merchant's API key issued with the
CLI, the token exchange a client makes, the webhooks it then receives."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from stockledger.cli import app as cli
from tests.conftest import TEST_SECRET, Api
from tests.integration.webhooks_support import Hooks

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


async def issue_key(org: str, scope: str, database_url: str, data_dir: Path) -> str:
    """What a merchant does: `stockledger apikey create`; the key is what they paste into the plugin."""

    def run() -> str:
        args = ["apikey", "create", "--org", org, "--scope", scope]
        result = CliRunner().invoke(
            cli,
            [*args, "--database-url", database_url, "--data-dir", str(data_dir)],
            env={"STOCKLEDGER_SECRET": TEST_SECRET},
        )
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    return await asyncio.to_thread(run)


def jwt_segments(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a JWT decoded by hand, as PHP clients do (no JWT library, no check)."""
    parts = key.split(".")
    assert len(parts) == 3, "number of segments"

    def segment(text: str) -> dict[str, Any]:
        decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        assert isinstance(decoded, dict)
        return decoded

    return segment(parts[0]), segment(parts[1])


async def access_token(
    client: httpx.AsyncClient, path: str, key: str, client_id: str, headers: dict[str, str] | None = None
) -> str:
    """The jwt-bearer grant as integrations send it (form-encoded, their partner client id)."""
    form = {"grant_type": JWT_BEARER, "client_id": client_id, "assertion": key}
    response = await client.post(path, data=form, headers=headers or {})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["access_token"], str) and isinstance(body["expires_in"], int)
    return str(body["access_token"])


@dataclass
class TokenApi(Api):
    """An Api whose requests carry a token the client obtained itself (not one minted by the test)."""

    bearer: str = ""

    def token(self, **_overrides: Any) -> str:
        return self.bearer


async def subscribe(api: Api, hooks: Hooks, destination: str, events: list[str]) -> dict[str, Any]:
    """POST a subscription as the client does; the hooks fixture forgets it after the test."""
    body = {
        "uuid": str(uuid.uuid1()),
        "transportName": "WEBHOOK",
        "eventNames": events,
        "destination": destination,
        "contactEmail": "shop@example.com",
    }
    response = await api.post("/organizations/self/subscriptions", json=body)
    assert response.status_code == 200, response.text
    hooks.created.append(body["uuid"])
    return dict(response.json())
