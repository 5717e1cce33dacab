"""Prometheus metrics of the service (spec §10)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("stockledger_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "stockledger_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
MOVEMENTS = Counter("stockledger_movements_total", "Movements recorded in the ledger", ["source"])
OUTBOX_DEPTH = Gauge("stockledger_outbox_depth", "Outbox messages not yet delivered")
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
