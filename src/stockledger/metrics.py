"""Prometheus metrics of the service (spec §10).

With several server processes (`serve --workers N`) every worker counts in its own memory-mapped
files under `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode, set up by `serve`),
and `/metrics` answers the sum over all of them, whichever worker takes the scrape.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("stockledger_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "stockledger_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
MOVEMENTS = Counter("stockledger_movements_total", "Movements recorded in the ledger", ["source"])
# The last value any live process measured (every process measures the same database).
OUTBOX_DEPTH = Gauge(
    "stockledger_outbox_depth", "Outbox messages not yet delivered", multiprocess_mode="livemostrecent"
)
DELIVERY_ATTEMPTS = Counter(
    "stockledger_webhook_delivery_attempts_total", "Webhook delivery attempts", ["result"]
)
WRITE_BATCH = Histogram(
    "stockledger_write_batch_size",
    "Movement writes of one organization applied together in one transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
SEND_TIMEOUTS = Counter(
    "stockledger_send_timeouts_total",
    "Connections reset because their client took no bytes of its answer for the send timeout",
)


def exposition() -> bytes:
    """The text `/metrics` answers: this process's metrics, or every worker's summed."""
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


def share_between_workers() -> Path:
    """Make the worker processes about to be started count into one fresh directory (before any of
    them imports this module); the caller removes it with `stop_sharing` when they have stopped."""
    directory = Path(tempfile.mkdtemp(prefix="stockledger-metrics-"))
    os.environ[MULTIPROC_DIR_VARIABLE] = str(directory)
    return directory


def stop_sharing(directory: Path) -> None:
    os.environ.pop(MULTIPROC_DIR_VARIABLE, None)
    shutil.rmtree(directory, ignore_errors=True)


def worker_stopped(pid: int) -> None:
    """Forget a stopped worker's live gauges (its counters stay in the sums)."""
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
