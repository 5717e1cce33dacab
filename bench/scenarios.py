"""The benchmark scenarios. Each returns a list of result rows: {scenario, backend, params, metrics}."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from bench import idle as bench_idle
from bench import limit, product_list
from bench import webhooks as bench_webhooks
from bench.env import Backend, Org, Server, product_uuid, run_wrk, variant_uuid

Row = dict[str, Any]


@dataclass(frozen=True)
class Scale:
    """How big and how long: `full` for `make bench`, `quick` for a look, `tiny` for the smoke test,
    `growth` for how scenarios 5 and 6 grow with the data (up to 1M variants and 10M ledger rows)."""

    name: str
    runs: int
    seconds: float  # per wrk / limit run
    variants: int  # scenario 1-3 and 8
    concurrencies: tuple[int, ...]
    bulk_changes: int
    fetch_sizes: tuple[int, ...]  # scenario 5: variants in the location
    sync_variants: int  # scenario 6: variants
    sync_ledgers: tuple[int, ...]  # scenario 6: ledger rows
    workers: tuple[int, ...]
    webhook_rates: tuple[int, ...] = (150, 500)  # scenario 7: PUTs (balance changes) per second, in all
    webhook_seconds: float = 20
    webhook_orgs: int = 4  # organizations (one subscription each) the rate is spread over
    paging_variants: int = 100_000  # scenario 10: variants in the location read page by page
    paging_limit: int = 1_000  # scenario 10: `limit` of the v3 pages (the contract's maximum)
    library_products: int = 10_000  # scenario 11: products in the library
    library_variants: int = 5  # scenario 11: variants of each product
    list_fetches: int = 3  # scenario 11: fetches of each list (alternating), at least
    idle_seconds: float = 60  # scenario 12: how long the server is left without traffic
    idle_settle_s: float = 5  # scenario 12: time the processes get to start before the window


SCALES = {
    "full": Scale(
        "full", 3, 8, 10_000, (1, 16, 64), 10_000, (10_000, 100_000), 100_000, (100_000, 1_000_000), (1, 2, 4)
    ),
    "quick": Scale(
        "quick",
        1,
        3,
        10_000,
        (1, 16, 64),
        2_000,
        (10_000,),
        10_000,
        (10_000, 100_000),
        (1, 2),
        (150, 500),
        10,
        4,
        20,
        3,
    ),
    "tiny": Scale(
        "tiny",
        1,
        1,
        200,
        (1, 16),
        200,
        (500,),
        500,
        (2_000,),
        (1,),
        (20,),
        2,
        2,
        paging_variants=2_500,
        library_products=200,
        idle_seconds=2,
        idle_settle_s=2,
    ),
    # How cost grows with the data (scenarios 5 and 6 only, on demand: `python -m bench --growth`)
    "growth": Scale(
        "growth",
        3,
        8,
        10_000,
        (1,),
        10_000,
        (10_000, 100_000, 1_000_000),
        100_000,
        (100_000, 1_000_000, 10_000_000),
        (1,),
    ),
}
GROWTH_SCENARIOS = "5,6"


def row(scenario: str, backend: Backend, params: dict[str, Any], runs: list[dict[str, Any]]) -> Row:
    return {"scenario": scenario, "backend": backend.kind, "params": params, "runs": runs}


def movements(backend: Backend, org: Org, scale: Scale) -> list[Row]:
    """(1) PUT with one change of a random variant, at each concurrency."""
    rows = []
    with Server(backend) as server:
        run_wrk(server, org, connections=4, seconds=1)  # warm-up: connections, caches, prepared statements
        for c in scale.concurrencies:
            runs = [run_wrk(server, org, connections=c, seconds=scale.seconds) for _ in range(scale.runs)]
            rows.append(row("1 movements", backend, {"concurrency": c}, runs))
    return rows


def v3_against_put(backend: Backend, org: Org, scale: Scale) -> list[Row]:
    """(9) POST /v3/movements with one movement of a random variant beside scenario 1's PUT, on one
    server, the two alternating run by run (each run's first alternates too) so both meet the same
    machine load."""
    rows = []
    with Server(backend) as server:
        for api in ("put", "v3"):  # warm-up of both paths
            run_wrk(server, org, connections=4, seconds=1, api=api)
        for c in scale.concurrencies:
            runs: dict[str, list[dict[str, Any]]] = {"put": [], "v3": []}
            for i in range(scale.runs):
                for api in ("put", "v3") if i % 2 == 0 else ("v3", "put"):
                    runs[api].append(run_wrk(server, org, connections=c, seconds=scale.seconds, api=api))
            for api, label in (("put", "PUT"), ("v3", "POST /v3/movements")):
                rows.append(row("9 v3 movements", backend, {"concurrency": c, "api": label}, runs[api]))
    return rows


def the_limit(backend: Backend, org: Org, scale: Scale) -> list[Row]:
    """(2) The PUT's SQL transaction straight from a database client."""
    rows = []
    for c in scale.concurrencies:
        runs = [limit.run(backend, org, concurrency=c, seconds=scale.seconds) for _ in range(scale.runs)]
        rows.append(row("2 limit", backend, {"concurrency": c}, runs))
    return rows


def hot_variant(backend: Backend, org: Org, scale: Scale) -> list[Row]:
    """(3) Concurrency 64 on ONE variant; the balance must equal the ledger, every 2xx in it."""
    connections = max(scale.concurrencies)
    runs = []
    with Server(backend) as server:
        for i in range(scale.runs):
            variant = org.variants - 1 - i  # a fresh variant each run: its balance starts at zero
            result = run_wrk(server, org, connections=connections, seconds=scale.seconds, hot=variant)
            ledger = _settled_ledger(backend, org, variant)
            balance = _balance(server, org, variant)
            # Requests still in flight when wrk stops are committed but not counted by wrk.
            result["balance"] = balance
            result["ledger_rows"] = ledger
            result["exact"] = balance == ledger and 0 <= ledger - result["ok"] <= connections
            runs.append(result)
    return [row("3 hot variant", backend, {"concurrency": connections}, runs)]


def _settled_ledger(backend: Backend, org: Org, variant: int) -> int:
    """The ledger count once requests still in flight when wrk stopped have finished (bounded wait)."""
    last, deadline = -1, time.monotonic() + 35
    while time.monotonic() < deadline:
        count = backend.ledger_count(org, variant)
        if count == last:
            return count
        last = count
        time.sleep(0.5)
    return last


def _balance(server: Server, org: Org, variant: int) -> int:
    path = (
        f"/organizations/self/inventory/locations/{org.locations['STORE']}/products/"
        f"{product_uuid(variant // org.per_product)}"
    )
    status, body = server.request("GET", path, token=org.token)
    assert status == 200, body
    for record in json.loads(body)["variants"]:
        if record["variantUuid"] == variant_uuid(variant):
            return int(record["balance"])
    return 0


def bulk(backend: Backend, org: Org, scale: Scale) -> list[Row]:
    """(4) One POST /v2/inventory/bulk with `bulk_changes` variant changes."""
    changes = min(scale.bulk_changes, org.variants)
    by_product: dict[int, list[dict[str, Any]]] = {}
    for v in range(changes):
        by_product.setdefault(v // org.per_product, []).append(
            {
                "variantUuid": variant_uuid(v),
                "fromLocationUuid": org.locations["SUPPLIER"],
                "toLocationUuid": org.locations["STORE"],
                "change": 1,
            }
        )
    body = json.dumps(
        {
            "returnBalanceForLocationUuid": org.locations["STORE"],
            "productChanges": [
                {"productUuid": product_uuid(p), "trackingStatusChange": "NO_CHANGE", "variantChanges": vcs}
                for p, vcs in by_product.items()
            ],
        }
    ).encode()
    runs = []
    with Server(backend) as server:
        server.request("GET", "/organizations/self/locations", token=org.token)
        for _ in range(scale.runs):
            seconds, status, _data = server.timed(
                "POST", "/organizations/self/v2/inventory/bulk", body, org.token
            )
            runs.append({"latency_ms": seconds * 1000, "errors": int(status != 200)})
    return [row("4 bulk", backend, {"changes": changes}, runs)]


def full_fetch(backend: Backend, org: Org, scale: Scale) -> list[Row]:
    """(5) GET of a location holding `org.variants` variants: latency and peak memory growth."""
    path = f"/organizations/self/inventory/locations/{org.locations['STORE']}"
    runs = []
    with Server(backend) as server:
        server.request("GET", "/organizations/self/locations", token=org.token)
        for i in range(scale.runs):
            before, cpu = server.peak_rss_kb(), server.cpu_seconds()
            seconds, status, data = server.timed("GET", path, None, org.token)
            cpu, after = server.cpu_seconds() - cpu, server.peak_rss_kb()
            count = len(json.loads(data)["variants"]) if status == 200 else 0
            run = {
                "latency_ms": seconds * 1000,
                "cpu_ms": cpu * 1000,  # steadier than latency on a shared machine
                "errors": int(status != 200 or count != org.variants),
            }
            if i == 0:  # the peak only grows: the first fetch shows what one fetch costs
                run["peak_growth_mb"] = (after - before) / 1024
            runs.append(run)
    return [row("5 full fetch", backend, {"variants": org.variants}, runs)]


def incremental_sync(backend: Backend, org: Org, scale: Scale, ledger: int) -> list[Row]:
    """(6) `since=<latest>` after 10 changed variants, among `org.variants` variants and `ledger` rows."""
    store = org.locations["STORE"]
    path = f"/organizations/self/inventory/locations/{store}"
    runs = []
    with Server(backend) as server:
        status, data = server.request("GET", path + "?since=999999999999", token=org.token)
        assert status == 200, data
        latest = json.loads(data)["latest"]
        changes = [
            {
                "productUuid": product_uuid(v // org.per_product),
                "variantUuid": variant_uuid(v),
                "fromLocationUuid": org.locations["SUPPLIER"],
                "toLocationUuid": store,
                "change": 1,
            }
            for v in range(0, org.variants, org.variants // 10)
        ][:10]
        status, data = server.request(
            "PUT", "/organizations/self/inventory", json.dumps({"changes": changes}).encode(), org.token
        )
        assert status == 200, data
        for _ in range(max(5, scale.runs)):
            cpu = server.cpu_seconds()
            seconds, status, data = server.timed("GET", f"{path}?since={latest}", None, org.token)
            cpu = server.cpu_seconds() - cpu
            count = len(json.loads(data)["variants"]) if status == 200 else -1
            runs.append(
                {"latency_ms": seconds * 1000, "cpu_ms": cpu * 1000, "errors": int(count != len(changes))}
            )
    return [row("6 incremental sync", backend, {"variants": org.variants, "ledger": ledger}, runs)]


def webhooks(backend: Backend, scale: Scale) -> list[Row]:
    """(7) Balance changes at a steady rate, delivered to a local receiver: throughput, lag, exactly-once,
    CPU per PUT and per delivered message."""
    orgs = [backend.seed(1_000) for _ in range(scale.webhook_orgs)]
    rows = []
    # Every rate with the server's own dispatcher; the highest also with `stockledger dispatch` in its
    # own process (the server's dispatcher off), as a deployment that needs that rate runs it.
    points = [(rate, "in-process") for rate in scale.webhook_rates]
    points.append((max(scale.webhook_rates), "separate"))
    for rate, layout in points:
        runs = [
            bench_webhooks.run(backend, orgs, rate=rate, seconds=scale.webhook_seconds, layout=layout)
            for _ in range(scale.runs)
        ]
        params = {
            "rate": rate,
            "seconds": int(scale.webhook_seconds),
            "subscriptions": len(orgs),
            "dispatcher": layout,
        }
        rows.append(row("7 webhooks", backend, params, runs))
    return rows


def scaling_out(backend: Backend, org: Org, scale: Scale) -> list[Row]:
    """(8) Scenario 1 at the highest concurrency with 1, 2 and 4 server processes."""
    rows = []
    c = max(scale.concurrencies)
    for workers in scale.workers:
        with Server(backend, workers=workers) as server:
            run_wrk(server, org, connections=4, seconds=1)
            runs = [run_wrk(server, org, connections=c, seconds=scale.seconds) for _ in range(scale.runs)]
        rows.append(row("8 scaling out", backend, {"concurrency": c, "workers": workers}, runs))
    return rows


def _follow_links(server: Server, org: Org, path: str) -> tuple[list[bytes], int]:
    """GET `path`, then every `Link: <URL>; rel="next"` until a page has none, over one keep-alive
    connection as a client would; the bodies are kept unparsed (parsing is the client's cost)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    headers = {"Authorization": f"Bearer {org.token}"}
    bodies, failed = [], 0
    try:
        url: str | None = path
        while url is not None:
            conn.request("GET", url, headers=headers)
            response = conn.getresponse()
            bodies.append(response.read())
            failed |= int(response.status != 200)
            link = response.getheader("Link")
            url = None
            if link is not None:
                target, rel = link.split("; ", 1)
                assert rel == 'rel="next"', link
                parts = urllib.parse.urlsplit(target.removeprefix("<").removesuffix(">"))
                url = f"{parts.path}?{parts.query}"
    finally:
        conn.close()
    return bodies, failed


def _v3_pages(server: Server, org: Org, path: str) -> dict[str, Any]:
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    bodies, failed = _follow_links(server, org, path)
    seconds = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu
    keys = [
        (r["inventoryUuid"], r["productUuid"], r["variantUuid"]) for body in bodies for r in json.loads(body)
    ]
    # Every variant of the store exactly once.
    wrong = failed or len(keys) != org.variants or len(set(keys)) != len(keys)
    return {"latency_ms": seconds * 1000, "cpu_ms": cpu * 1000, "requests": len(bodies), "errors": int(wrong)}


def _old_streamed(server: Server, org: Org, path: str) -> dict[str, Any]:
    cpu = server.cpu_seconds()
    seconds, status, data = server.timed("GET", path, None, org.token)
    cpu = server.cpu_seconds() - cpu
    count = len(json.loads(data)["variants"]) if status == 200 else 0
    return {
        "latency_ms": seconds * 1000,
        "cpu_ms": cpu * 1000,
        "requests": 1,
        "errors": int(status != 200 or count != org.variants),
    }


OLD_STREAMED = "old API streamed"


def v3_paging(backend: Backend, org: Org, scale: Scale) -> list[Row]:
    """(10) A store of `org.variants` variants read end to end: `GET /v3/stock/{inventoryUuid}` and
    `GET /v3/stock` in pages of `paging_limit` rows following the Link headers, and the old API's
    streamed fetch of the same location. The reads alternate, in a rotated order every round, so
    drift on a shared machine hits them alike."""
    store = org.locations["STORE"]
    size = scale.paging_limit
    reads: dict[str, tuple[Any, str]] = {
        f"v3 /v3/stock/{{inventoryUuid}}, pages of {size:,}": (_v3_pages, f"/v3/stock/{store}?limit={size}"),
        f"v3 /v3/stock, pages of {size:,}": (_v3_pages, f"/v3/stock?limit={size}"),
        OLD_STREAMED: (_old_streamed, f"/organizations/self/inventory/locations/{store}"),
    }
    names = list(reads)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with Server(backend) as server:
        for read, path in reads.values():  # warm-up: connections, statement caches
            read(server, org, path)
        for i in range(max(3, scale.runs)):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                read, path = reads[name]
                runs[name].append(read(server, org, path))
    return [row("10 v3 paging", backend, {"variants": org.variants, "read": n}, runs[n]) for n in names]


def product_library_list(backend: Backend, org: Org, scale: Scale) -> list[Row]:
    """(11) The whole library as integrations list it (v2 and v1, alternating), and one product."""
    return product_list.run(backend, org, max(scale.list_fetches, scale.runs), scale.library_products)


def idle(backend: Backend, scale: Scale) -> list[Row]:
    """(12) The server and one `stockledger dispatch` left without traffic: CPU of both and of the
    database's backends, as a percentage of one core."""
    runs = [
        bench_idle.run(
            backend, seconds=scale.idle_seconds, settle_s=scale.idle_settle_s, separate_dispatch=True
        )
        for _ in range(scale.runs)
    ]
    params = {"seconds": int(scale.idle_seconds), "processes": "serve + dispatch"}
    return [row("12 idle", backend, params, runs)]
