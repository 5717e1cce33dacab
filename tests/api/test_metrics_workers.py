"""`/metrics` of a server with several workers is the sum over all of them: any scrape, whichever
worker answers it, counts every request (prometheus_client's multiprocess mode)."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.server import running

REQUESTS = 40
SCRAPES = 8


def readyz_count(exposition: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "stockledger_http_requests_total" and sample.labels.get("route") == "/readyz":
                return sample.value
    return 0.0


def test_every_scrape_of_two_workers_counts_every_request(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'data' / 'stockledger.db'}"
    with running(database_url, tmp_path / "data", workers=2) as server:
        for _ in range(REQUESTS):  # a new connection each time, so both workers take some
            assert httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 200
        counts = []
        for _ in range(SCRAPES):
            scrape = httpx.get(f"{server.base_url}/metrics", timeout=10)
            assert scrape.status_code == 200
            counts.append(readyz_count(scrape.text))
        assert counts == [REQUESTS] * SCRAPES
        exposition = httpx.get(f"{server.base_url}/metrics", timeout=10).text
        assert "stockledger_outbox_depth" in exposition
