"""Over a real socket: `stockledger serve` on a free port runs the seed walkthrough and stops cleanly."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from stockledger.tokens import mint_access_token
from tests.server import Server, clean_env, spawn


@dataclass
class WalkthroughServer:
    server: Server
    data_dir: Path

    @property
    def base_url(self) -> str:
        return self.server.base_url


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WalkthroughServer]:
    data_dir = tmp_path / "data"
    running = spawn(clean_env(STOCKLEDGER_LOG_LEVEL="info"), tmp_path, "--data-dir", str(data_dir))
    try:
        yield WalkthroughServer(running, data_dir)
    finally:
        running.kill()


def test_seed_walkthrough_over_a_real_socket_then_clean_stop(server: WalkthroughServer) -> None:
    secret_file = server.data_dir / "secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((server.data_dir / "stockledger.db").stat().st_mode) == 0o600
    org = "0b9a7d1e-3c55-4c1f-9c7a-5f0e2b6a1d10"
    token = mint_access_token(secret_file.read_text().strip(), org=org)
    headers = {"Authorization": f"Bearer {token}"}
    product, variant = "d5b1a7f0-1f7e-11ee-8c90-0242ac120002", "e0c5c6a4-1f7e-11ee-8c90-0242ac120002"
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10, follow_redirects=False) as http:
        assert http.get("/readyz").status_code == 200
        locations = http.get("/organizations/self/locations/")
        assert locations.status_code == 200
        locs = {loc["type"]: loc["uuid"] for loc in locations.json()}
        assert http.post("/organizations/self/inventory", json={"productUuid": product}).status_code == 200

        def move(src: str, dst: str, change: object) -> httpx.Response:
            body = {
                "changes": [
                    {
                        "productUuid": product,
                        "variantUuid": variant,
                        "fromLocationUuid": locs[src],
                        "toLocationUuid": locs[dst],
                        "change": change,
                    }
                ]
            }
            return http.put("/organizations/self/inventory", json=body)

        assert move("SUPPLIER", "STORE", 10).json()["variants"][0]["balance"] == "10"
        assert move("STORE", "SOLD", "2.5").json()["variants"][0]["balance"] == "7.5"
        store = http.get(f"/organizations/self/inventory/locations/{locs['STORE']}/")
        assert store.status_code == 200
        body = store.json()
        assert body["trackedProducts"] == [product]
        assert body["variants"][0]["balance"] == "7.5" and body["latest"] > 0
        later = http.get("/inventory", params={"since": body["latest"]}).json()
        assert later["variants"] == [] and later["trackedProducts"] == [product]
        assert "request_id" not in http.get("/users/self").text
        # SQLite makes the WAL and its index once a connection uses the database (the server's pools
        # keep theirs open; the last one to close removes them): by now both exist.
        for name in ("stockledger.db-wal", "stockledger.db-shm"):
            assert stat.S_IMODE((server.data_dir / name).stat().st_mode) == 0o600, name

    server.server.sigterm()
    returncode = server.server.process.wait(timeout=15)
    stderr = server.server.log()
    # uvicorn re-raises the signal after its graceful shutdown, so -SIGTERM is a clean exit too.
    assert returncode in {0, -signal.SIGTERM}, stderr
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert any(e["message"] == "Application shutdown complete." for e in entries)
    assert not any(e["level"] in {"error", "critical"} for e in entries), stderr
    assert not any(e["logger"].startswith("alembic") for e in entries), "readiness probes stay quiet"
    requests = [e for e in entries if e.get("message") == "request"]
    assert any(e["path"] == "/organizations/self/inventory" and e["status"] == 200 for e in requests)
    assert all(e.get("request_id") for e in requests)


def test_python_dash_m_shows_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stockledger", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for command in ("serve", "migrate", "token", "apikey"):
        assert command in result.stdout
