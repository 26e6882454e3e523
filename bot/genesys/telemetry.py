"""Counting Genesys requests: Prometheus metrics plus the in-process `stats()` the benchmark reads.

Every HTTP attempt (retries and logins included) is recorded exactly once, by the HTTP client,
so the numbers match what Genesys' own rate limiter counts.
"""

from __future__ import annotations

import threading
from typing import Any

from bot.ops.metrics import GENESYS_RATE_LIMIT_WAIT_SECONDS, GENESYS_REQUEST_SECONDS, GENESYS_REQUESTS

# The operation label of every request this adapter sends (bounded: metric labels).
OPERATIONS = (
    "token",
    "get_call",
    "get_conversation",
    "list_queues",
    "get_queue",
    "replace_queue",
    "replace_agent",
    "transfer_address",
    "search_users",
    "get_user",
    "routing_status",
    "activity_query",
    "queue_observations",
    "estimated_wait",
)


class RequestMeter:
    """Thread-safe request counters, mirrored into bot.ops.metrics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._by_kind: dict[str, int] = dict.fromkeys(OPERATIONS, 0)
        self._received_429 = 0

    def attempt(self, operation: str, status: int | None, seconds: float) -> None:
        """One HTTP attempt ended: with an HTTP status, or None when no (complete) answer came."""
        label = str(status) if status is not None else "error"
        GENESYS_REQUESTS.labels(operation=operation, status=label).inc()
        GENESYS_REQUEST_SECONDS.labels(operation=operation).observe(max(0.0, seconds))
        with self._lock:
            self._requests += 1
            self._by_kind[operation] = self._by_kind.get(operation, 0) + 1
            if status == 429:
                self._received_429 += 1

    @staticmethod
    def waited(seconds: float) -> None:
        """Time one request spent in the client-side rate limiter."""
        GENESYS_RATE_LIMIT_WAIT_SECONDS.observe(max(0.0, seconds))

    def stats(self) -> dict[str, Any]:
        """Counters since start: requests, by_kind (per operation), received_429."""
        with self._lock:
            return {
                "requests": self._requests,
                "by_kind": dict(self._by_kind),
                "received_429": self._received_429,
            }
