"""The README's five-minute walkthrough, run as written: its shell blocks are taken from the README and
executed by bash with curl against a real `stockledger serve` (SQLite in a temporary data directory),
with a webhook subscriber listening. Every request must succeed, the answers must say what the
README says they say, and the subscriber must receive the events the README lists, in that order."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stockledger.tokens import mint_access_token
from tests.server import Server, clean_env, spawn
from tests.webhook_receiver import running_receiver

README = Path(__file__).parents[2] / "README.md"
WALKTHROUGH = "## A five-minute walkthrough"
PRODUCTS_PART = "### A product, a sale, and the webhooks on the way"
README_API = "API=http://127.0.0.1:8000"
# Step 5 shows `?since=N` with N standing for the number the previous answer gave.
PLACEHOLDER_URL = "since=N"
# Every curl call also reports its status, method and URL on stderr; each answer ends with a newline.
CURL_REPORT = "curl() { command curl -w '\\n%{stderr}%{http_code} %{method} %{url_effective}\\n' \"$@\"; }\n"


def shell_block(text: str) -> str:
    found = re.search(r"```sh\n(.*?)```", text, flags=re.S)
    assert found, "a ```sh block"
    return found.group(1)


def walkthrough(api_base: str) -> tuple[str, str]:
    """The walkthrough's shell (both blocks, pointed at `api_base`) and its organization UUID."""
    section = README.read_text().split(WALKTHROUGH, 1)[1].split("\n## ", 1)[0]
    first = shell_block(section)
    second = shell_block(section.split(PRODUCTS_PART, 1)[1])
    assert README_API in first
    org = re.search(r"^ORG=([0-9a-f-]{36})", first, flags=re.M)
    assert org, "the walkthrough names its organization"
    return first.replace(README_API, f"API={api_base}") + second, org.group(1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    data_dir = tmp_path / "data"
    env = clean_env(STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE="1", STOCKLEDGER_LOG_LEVEL="warning")
    running = spawn(env, tmp_path, "--data-dir", str(data_dir))
    try:
        yield running, data_dir
    finally:
        running.kill()


def cli_shim(folder: Path) -> None:
    """`.venv/bin/stockledger` as the README calls it, relative to the folder the shell runs in."""
    shim = folder / ".venv" / "bin" / "stockledger"
    shim.parent.mkdir(parents=True)
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m stockledger "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)


async def test_the_walkthrough_runs_as_written_and_the_subscriber_gets_the_events_it_lists(
    server: tuple[Server, Path], tmp_path: Path
) -> None:
    running, data_dir = server
    script, org = walkthrough(running.base_url)
    token = mint_access_token((data_dir / "secret").read_text().strip(), org=org)
    shell_dir = tmp_path / "shell"
    cli_shim(shell_dir)
    async with running_receiver() as receiver, httpx.AsyncClient(base_url=running.base_url) as http:
        headers = {"Authorization": f"Bearer {token}"}
        subscription = {
            "uuid": "5d0c6b1a-9a4d-11ef-8d3a-0242ac120002",
            "transportName": "WEBHOOK",
            "eventNames": [],
            "destination": receiver.url,
            "contactEmail": "me@example.com",
        }
        created = await http.post("/organizations/self/subscriptions", json=subscription, headers=headers)
        assert created.status_code == 200, created.text
        bash = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            "set -eo pipefail\n" + CURL_REPORT + script,
            cwd=shell_dir,
            env={**os.environ, "STOCKLEDGER_DATA_DIR": str(data_dir)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(bash.communicate(), timeout=120)
        assert bash.returncode == 0, err.decode()
        events = await receiver.wait_for(8, timeout_s=30)

    calls = [line.split(" ", 2) for line in err.decode().splitlines() if re.match(r"^\d{3} ", line)]
    assert len(calls) >= 15, err.decode()
    for status, method, url in calls:
        expected = "400" if PLACEHOLDER_URL in url else "2"
        assert status.startswith(expected), (status, method, url)
    answers = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    page, stock = answers[-2], answers[-1]
    mug, small, large, sale = (
        re.search(rf"^.*\b{name}=([0-9a-f-]{{36}})", script, flags=re.M).group(1)  # type: ignore[union-attr]
        for name in ("MUG", "SMALL", "LARGE", "SALE")
    )
    [purchase] = page["purchases"]
    assert (purchase["purchaseUUID1"], purchase["amount"], purchase["purchaseNumber"]) == (sale, 9900, 1)
    assert [(p["quantity"], p["variantName"]) for p in purchase["products"]] == [("1", "Small")]
    assert page["linkUrls"] == [] and page["lastPurchaseHash"]
    balances = {v["variantUuid"]: v["balance"] for v in stock["variants"]}
    assert balances == {small: "11", large: "8"}

    names = [e.json()["eventName"] for e in events]
    # Steps 2-4 of the first block, then the ones the README lists for steps 6-9.
    assert names == [
        "InventoryTrackingStarted",
        "InventoryBalanceChanged",
        "InventoryBalanceChanged",
        "ProductCreated",
        "InventoryTrackingStarted",
        "InventoryBalanceChanged",
        "InventoryBalanceChanged",
        "PurchaseCreated",
    ]
    payloads: list[dict[str, Any]] = [json.loads(str(e.json()["payload"])) for e in events]
    assert payloads[3]["uuid"] == mug and len(payloads[3]["variants"]) == 2
    assert payloads[4]["productUuid"] == mug
    assert {b["variantUuid"] for b in payloads[5]["balanceAfter"]} == {small, large}
    assert payloads[6]["externalUuid"] == sale
    assert payloads[7]["purchaseUuid"] == sale
