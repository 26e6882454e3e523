"""Prometheus metrics. The names and labels are a contract: dashboards and alerts rely on them.

No label takes an unbounded set of values: no conversation ids, user ids or queue names.
Each metric is defined once, here; code that observes something imports the metric object.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

TRANSFER_OUTCOMES = (
    "succeeded", "failed", "uncertain", "denied", "expired", "cancelled", "superseded", "refused",
)

TRANSFERS = Counter(
    "transferbot_transfers",
    "Transfer requests that reached an ending, by target kind and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
SLACK_ACK_SECONDS = Histogram(
    "transferbot_slack_ack_seconds",
    "Time from a Slack request arriving to its ack being written.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
GENESYS_REQUESTS = Counter(
    "transferbot_genesys_requests",
    "HTTP requests sent to Genesys Cloud, by operation and HTTP status ('error' when no response).",
    ["operation", "status"],
    registry=REGISTRY,
)
GENESYS_REQUEST_SECONDS = Histogram(
    "transferbot_genesys_request_seconds",
    "Duration of Genesys Cloud HTTP requests, by operation.",
    ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0),
    registry=REGISTRY,
)
GENESYS_RATE_LIMIT_WAIT_SECONDS = Histogram(
    "transferbot_genesys_rate_limit_wait_seconds",
    "Time spent waiting in the client-side Genesys rate limiter before a request.",
    buckets=(0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
APPROVALS_PENDING = Gauge(
    "transferbot_approvals_pending",
    "Requests waiting for approval, read from the shared store (right across replicas).",
    registry=REGISTRY,
)
CONFIRMATIONS_PENDING = Gauge(
    "transferbot_confirmations_pending",
    "Transfers Genesys accepted that are still waiting for its confirmation (shared store).",
    registry=REGISTRY,
)
SLACK_DELIVERIES = Counter(
    "transferbot_slack_deliveries",
    "Slack Web API and response_url deliveries, by method and result (ok, retried, failed).",
    ["method", "result"],
    registry=REGISTRY,
)


def count_ending(kind: str | None, outcome: str) -> None:
    if outcome in TRANSFER_OUTCOMES:
        TRANSFERS.labels(kind=kind or "queue", outcome=outcome).inc()
