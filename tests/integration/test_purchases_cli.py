"""`stockledger purchases connect | import` against the test database (service layer, no HTTP)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from stockledger.cli import app
from stockledger.service import purchases
from stockledger.store.db import Database
from tests.api.purchase_helpers import (
    BEANS,
    BEANS_KG,
    FIXTURE_LINES,
    REFUND,
    SALE,
    TEE,
    TEE_M,
    TEE_S,
    WEIGHED,
    balances_of,
    ledger,
    recorded_purchases,
    stock,
)
from tests.conftest import Api


async def run_cli(*args: str) -> Result:
    """The command runs its own event loop, so it runs in a thread beside the test's."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def test_import_records_a_file_and_summarises_it(
    api: Api, db: Database, database_url: str, tmp_path: Path
) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"), (BEANS, BEANS_KG, "2"))
    bad_quantity = json.loads(FIXTURE_LINES[0])
    bad_quantity["purchaseUuid"] = "11111111-a110-11eb-a7f9-24cfef8c2970"
    bad_quantity["products"][0]["quantity"] = "lots"
    lines = [*FIXTURE_LINES, "", FIXTURE_LINES[0], json.dumps(bad_quantity), "{truncated"]
    file = tmp_path / "purchases.jsonl"
    file.write_text("\n".join(lines) + "\n")

    result = await run_cli("purchases", "import", str(file), "--org", api.org, "--database-url", database_url)

    assert result.exit_code == 1, result.output
    assert "purchases: 3 recorded, 1 already recorded, 2 invalid" in result.output
    assert "lines: 5 applied, 2 skipped (NOT_TRACKED 1, NO_PRODUCT 1)" in result.output
    assert "line 6: products[0].quantity must be a plain decimal number" in result.output
    assert "line 7: malformed JSON" in result.output
    # sale 2 Small + 1 Medium, then 1 Small and 0.45 kg, then 1 Small refunded
    assert await balances_of(api, "STORE") == {TEE_S: "8", TEE_M: "4", BEANS_KG: "1.55"}
    assert sorted(await recorded_purchases(db, api.org)) == sorted(
        (doc["purchaseUuid"], "IMPORT") for doc in (SALE, WEIGHED, REFUND)
    )
    assert len([r for r in await ledger(db, api.org) if r["source"] == "PURCHASE"]) == 5


async def test_import_again_changes_nothing(api: Api, database_url: str, tmp_path: Path) -> None:
    await stock(api, (TEE, TEE_S, "10"), (TEE, TEE_M, "5"))
    file = tmp_path / "purchases.jsonl"
    file.write_text("\n".join(FIXTURE_LINES))
    args = ("purchases", "import", str(file), "--org", api.org, "--database-url", database_url)
    assert (await run_cli(*args)).exit_code == 0
    again = await run_cli(*args)
    assert again.exit_code == 0, again.output
    assert "purchases: 0 recorded, 3 already recorded, 0 invalid" in again.output
    assert await balances_of(api, "STORE") == {TEE_S: "8", TEE_M: "4"}


async def test_connect_stores_the_signing_key(api: Api, db: Database, database_url: str) -> None:
    result = await run_cli(
        "purchases",
        "connect",
        "--org",
        api.org.upper(),
        "--signing-key",
        "k" * 64,
        "--database-url",
        database_url,
    )
    assert result.exit_code == 0, result.output
    assert await purchases.signing_key(db, api.org) == "k" * 64


async def test_connect_refuses_a_bad_organization_or_empty_key(database_url: str) -> None:
    bad_org = await run_cli(
        "purchases", "connect", "--org", "x", "--signing-key", "k", "--database-url", database_url
    )
    empty = await run_cli(
        "purchases", "connect", "--org", "6f0c3b1e-0000-4000-8000-000000000000", "--signing-key", " "
    )
    assert bad_org.exit_code == empty.exit_code == 2
