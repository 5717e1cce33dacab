"""A real `stockledger serve` subprocess on SQLite in a temp dir, for browser tests and screenshots."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from stockledger.tokens import mint_access_token
from tests import server as processes


@dataclass
class Server:
    base_url: str
    data_dir: Path
    org: str
    api_key: str
    secret: str
    email: str  # the organization's owner, who signs in to the back office
    password: str

    def api(self) -> httpx.Client:
        """An API client for the server's organization (to set up data as an integration would)."""
        token = mint_access_token(self.secret, org=self.org)
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def add_product(self, name: str, variants: list[tuple[str, str, Any]]) -> tuple[str, list[str]]:
        """Track a product, name it, receive stock per (variant name, sku, quantity); returns the UUIDs."""
        product = str(uuid.uuid4())
        variant_uuids = [str(uuid.uuid4()) for _ in variants]
        with self.api() as api:
            locations = {loc["type"]: loc["uuid"] for loc in api.get("/organizations/self/locations").json()}
            api.post("/organizations/self/inventory", json={"productUuid": product}).raise_for_status()
            body = {
                "name": name,
                "variants": [
                    {"uuid": v, "name": vname, "sku": sku}
                    for v, (vname, sku, _) in zip(variant_uuids, variants, strict=True)
                ],
            }
            api.put(f"/organizations/self/catalog/products/{product}", json=body).raise_for_status()
            changes = [
                {
                    "productUuid": product,
                    "variantUuid": v,
                    "fromLocationUuid": locations["SUPPLIER"],
                    "toLocationUuid": locations["STORE"],
                    "change": quantity,
                }
                for v, (_, _, quantity) in zip(variant_uuids, variants, strict=True)
                if quantity
            ]
            if changes:
                api.put("/organizations/self/inventory", json={"changes": changes}).raise_for_status()
        return product, variant_uuids


@contextmanager
def running_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """Issue an API key and create the organization's owner, start the server on a random port, wait
    until it answers; stop it afterwards."""
    settings = {
        "STOCKLEDGER_DATA_DIR": str(data_dir),
        "STOCKLEDGER_DISPATCHER": "0",
        "STOCKLEDGER_LOG_LEVEL": "warning",
    }
    env = processes.clean_env(**{**settings, **(extra_env or {})})
    org = str(uuid.uuid4())
    created = subprocess.run(
        [sys.executable, "-m", "stockledger", "apikey", "create", "--org", org],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    api_key = created.stdout.strip().splitlines()[-1]
    email, password = "owner@example.com", "e2e owner password"
    subprocess.run(
        [sys.executable, "-m", "stockledger", "user", "create", "--org", org, "--email", email,
         "--name", "Olive Owner", "--password-stdin"],
        env=env, input=password + "\n", capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    secret = (data_dir / "secret").read_text().strip()
    server = processes.spawn(env, data_dir)
    try:
        yield Server(server.base_url, data_dir, org, api_key, secret, email, password)
    finally:
        try:
            server.terminate(timeout_s=15)
        except subprocess.TimeoutExpired:
            server.kill()
