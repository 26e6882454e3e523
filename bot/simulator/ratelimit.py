"""Per-OAuth-client rate limiting for the simulator.

Model (one independent bucket per OAuth client id, i.e. shared by every token that client holds):

* Token bucket with capacity ``burst`` that refills continuously at ``rate_limit_per_minute / 60``
  tokens per second, starting full. Each authenticated API request takes one token.
* A request that finds less than one token is rejected with **429** ``too.many.requests`` and
  ``Retry-After: ceil((1 - tokens) / refill_rate)`` seconds, at least 1 - the time until the next
  token is available. Rejected requests take nothing from the bucket.
* ``POST /oauth/token`` is not rate limited, nor are requests that fail authentication (they cannot
  be attributed to a client). Injected faults bypass the limiter.
* Informational headers on every authenticated API response, mirroring Genesys names:
  ``inin-ratelimit-allowed`` = ``rate_limit_per_minute``; ``inin-ratelimit-count`` = requests of
  this client admitted in the current fixed 60-second window (the window opens at the client's
  first request); ``inin-ratelimit-reset`` = whole seconds until that window closes.
  The bucket, not the window counter, decides 429s.
* ``rate_limit_per_minute`` of ``None`` or ``<= 0`` disables limiting (headers still sent).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
UNLIMITED_ALLOWED = 1_000_000


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds; 0 when allowed
    headers: dict[str, str]


@dataclass
class _Bucket:
    tokens: float
    updated: float
    window_start: float
    window_count: int = 0


class RateLimiter:
    def __init__(self, per_minute: int | None = 300, burst: int = 10) -> None:
        self._lock = threading.Lock()
        self._per_minute = per_minute
        self._burst = max(1, int(burst))
        self._buckets: dict[str, _Bucket] = {}

    @property
    def per_minute(self) -> int | None:
        return self._per_minute

    @property
    def burst(self) -> int:
        return self._burst

    def configure(self, per_minute: int | None, burst: int) -> None:
        """Change the limits; every client's bucket starts full again."""
        with self._lock:
            self._per_minute = per_minute
            self._burst = max(1, int(burst))
            self._buckets.clear()

    def acquire(self, client_id: str) -> Decision:
        now = time.monotonic()
        with self._lock:
            unlimited = not self._per_minute or self._per_minute <= 0
            rate = 0.0 if unlimited else self._per_minute / 60.0
            b = self._buckets.get(client_id)
            if b is None:
                b = _Bucket(tokens=float(self._burst), updated=now, window_start=now)
                self._buckets[client_id] = b
            b.tokens = min(float(self._burst), b.tokens + (now - b.updated) * rate)
            b.updated = now
            if now - b.window_start >= WINDOW_SECONDS:
                elapsed_windows = math.floor((now - b.window_start) / WINDOW_SECONDS)
                b.window_start += elapsed_windows * WINDOW_SECONDS
                b.window_count = 0
            if unlimited or b.tokens >= 1.0:
                if not unlimited:
                    b.tokens -= 1.0
                b.window_count += 1
                allowed, retry_after = True, 0
            else:
                allowed = False
                retry_after = max(1, math.ceil((1.0 - b.tokens) / rate - 1e-9))
            reset = max(0, math.ceil(b.window_start + WINDOW_SECONDS - now))
            headers = {
                "inin-ratelimit-count": str(b.window_count),
                "inin-ratelimit-allowed": str(UNLIMITED_ALLOWED if unlimited else self._per_minute),
                "inin-ratelimit-reset": str(reset),
            }
            return Decision(allowed=allowed, retry_after=retry_after, headers=headers)
