"""`stockledger org set | show` against the test database: what the API then serves."""

from __future__ import annotations

import asyncio

from click.testing import Result
from typer.testing import CliRunner

from stockledger.cli import app
from tests.conftest import Api


async def run_cli(*args: str) -> Result:
    """The command runs its own event loop, so it runs in a thread beside the test's."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def test_org_set_changes_what_integrations_read(api: Api, database_url: str) -> None:
    result = await run_cli(
        "org", "set", "--org", api.org, "--name", "Kaffebaren", "--country", "SE",
        "--currency", "SEK", "--language", "sv", "--vat-percentage", "12",
        "--database-url", database_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "name:           Kaffebaren" in result.output
    body = (await api.get("/api/resources/organizations/self")).json()
    assert (body["name"], body["country"], body["currency"], body["language"]) == (
        "Kaffebaren",
        "SE",
        "SEK",
        "sv",
    )
    assert body["vatPercentage"] == 12.0

    # Only what is given changes; "" returns a field to its default.
    result = await run_cli("org", "set", "--org", api.org, "--name", "", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    body = (await api.get("/api/resources/organizations/self")).json()
    assert (body["name"], body["vatPercentage"]) == (api.org, 12.0)

    shown = await run_cli("org", "show", "--org", api.org, "--database-url", database_url)
    assert shown.exit_code == 0 and "VAT percentage: 12" in shown.output


async def test_org_set_refuses_bad_values_and_changes_nothing(api: Api, database_url: str) -> None:
    await api.put("/organizations/self/settings", json={"currency": "EUR"})
    result = await run_cli(
        "org",
        "set",
        "--org",
        api.org,
        "--currency",
        "EURO",
        "--country",
        "ZZ",
        "--database-url",
        database_url,
    )
    assert result.exit_code == 2
    assert "--currency must be an ISO 4217 currency code" in result.output
    assert "--country must be an ISO 3166-1 alpha-2 country code" in result.output
    body = (await api.get("/organizations/self/settings")).json()
    assert (body["currency"], body["country"]) == ("EUR", "SE")
    nothing = await run_cli("org", "set", "--org", api.org, "--database-url", database_url)
    assert nothing.exit_code == 2
