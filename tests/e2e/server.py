"""A real `stockledger serve` subprocess on SQLite in a temp dir, for browser tests and screenshots."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt

from stockledger.tokens import mint_access_token
from tests import server as processes

API_KEY_LABEL = "Webshop"  # the label of the server's API key, which names its movements


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
        """An API client for the server's organization (to set up data as an integration would): it
        acts as the API key's subject, so the back office names its movements by the key's label."""
        sub = jwt.decode(self.api_key, self.secret, algorithms=["HS256"], options={"verify_aud": False})[
            "sub"
        ]
        token = mint_access_token(self.secret, org=self.org, sub=sub)
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

    def movement_count(self, product: str, variant: str) -> int:
        with sqlite3.connect(self.data_dir / "stockledger.db", timeout=10) as conn:
            row = conn.execute(
                "SELECT count(*) FROM movements WHERE org_uuid = ? AND product_uuid = ? AND variant_uuid = ?",
                (self.org, product, variant),
            ).fetchone()
        return int(row[0])

    def backdate(self, product: str, variant: str, ages_s: list[float]) -> list[int]:
        """Give the variant's movements, oldest first, these ages (seconds before now), so a chart
        has weeks of history: test and demo data only (the ledger itself never rewrites a row).
        Returns the times given (ms)."""
        with sqlite3.connect(self.data_dir / "stockledger.db", timeout=10) as conn:
            seqs = [
                row[0]
                for row in conn.execute(
                    "SELECT seq FROM movements WHERE org_uuid = ? AND product_uuid = ? AND variant_uuid = ?"
                    " ORDER BY seq",
                    (self.org, product, variant),
                )
            ]
            assert len(seqs) == len(ages_s), (len(seqs), len(ages_s))
            now_s = time.time()
            times_ms = [int((now_s - age_s) * 1000) for age_s in ages_s]
            for seq, at_ms in zip(seqs, times_ms, strict=True):
                conn.execute(
                    "UPDATE movements SET created_ms = ? WHERE org_uuid = ? AND seq = ?",
                    (at_ms, self.org, seq),
                )
        return times_ms


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
        [sys.executable, "-m", "stockledger", "apikey", "create", "--org", org, "--label", API_KEY_LABEL],
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


class _Receiver(BaseHTTPRequestHandler):
    """A webhook destination on 127.0.0.1: /ok answers 200; /flaky answers the test message, then 500."""

    seen: dict[str, int] = {}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        count = self.seen[self.path] = self.seen.get(self.path, 0) + 1
        self.send_response(200 if self.path == "/ok" or count == 1 else 500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def receiver() -> Iterator[str]:
    """A webhook receiver (see _Receiver) for a server run with its dispatcher; its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def subscribe(server: Server, base: str) -> list[str]:
    """Two subscriptions to the receiver at `base`: balance changes to /ok, low stock to /flaky."""
    subs = []
    with server.api() as api:
        for path, events in (("/ok", ["InventoryBalanceChanged"]), ("/flaky", ["InventoryLowStock"])):
            body = {
                "uuid": str(uuid.uuid4()),
                "transportName": "WEBHOOK",
                "eventNames": events,
                "destination": base + path,
                "contactEmail": "ops@example.com",
            }
            api.post("/organizations/self/subscriptions", json=body).raise_for_status()
            subs.append(body["uuid"])
    return subs


def wait_for_deliveries(server: Server, subs: list[str]) -> None:
    """Until every delivery of these subscriptions was attempted at least once (15 s at most)."""
    deadline = time.monotonic() + 15
    with server.api() as api:
        while time.monotonic() < deadline:
            logs = [api.get(f"/organizations/self/subscriptions/{s}/deliveries").json() for s in subs]
            if all(logs) and all(entry.get("attempts", 0) > 0 for log in logs for entry in log):
                return
            time.sleep(0.2)
