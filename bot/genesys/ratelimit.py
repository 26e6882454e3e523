"""Client-side pacing of Genesys requests: a token bucket with two priorities, optionally shared.

Genesys allows ~300 requests/min per client-credentials token and answers bursts above that with
429s. Pacing on our side keeps a busy bot under the limit instead of provoking 429 storms (each
costs a Retry-After wait). Priorities matter because confirmation reads and queue health
(BACKGROUND) must never delay a transfer (CRITICAL): when tokens are scarce every waiting
CRITICAL request is served before any BACKGROUND one; within a priority, first come first served.

Several replicas share one OAuth client and so one Genesys budget. Given a `RateBudget` (a
bucket in the shared database), a request also needs a token from that bucket: the local
bucket keeps the ordering, the shared one keeps all replicas together under the rate. When the
shared bucket says "wait", the request steps back into the local queue with its place kept
and every local waiter holds off for that long (they would be refused too).

Deliberately no SDK import: this is plain threading.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from bot.ports.genesys import Priority
from bot.ports.store import RateBudget

log = logging.getLogger(__name__)

_BUDGET_ERROR_LOG_INTERVAL = 60.0


def budget_key(client_id: str) -> str:
    """Key of the shared bucket for one OAuth client (Genesys counts per client)."""
    return "genesys-oauth:" + hashlib.sha256(client_id.encode()).hexdigest()[:24]


class PriorityRateLimiter:
    """Thread-safe token bucket: `rate_per_minute` sustained, `burst` tokens of head-room.

    Waiters sleep on a Condition until the next token is due (no polling loop); the fast path
    (tokens available, nobody queued) takes the lock once.
    """

    def __init__(
        self,
        rate_per_minute: float = 300,
        burst: int = 10,
        *,
        margin_seconds: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        budget: RateBudget | None = None,
        budget_key: str | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if budget is not None and not budget_key:
            raise ValueError("a shared budget needs a key")
        self._rate = rate_per_minute / 60.0  # tokens per second
        self._capacity = float(burst)
        self._clock = clock
        self._budget = budget
        self._budget_key = budget_key or ""
        self._wall_clock = wall_clock  # the shared bucket is read by several hosts: wall time
        self._budget_error_logged = -_BUDGET_ERROR_LOG_INTERVAL
        self._cond = threading.Condition(threading.Lock())
        self._tokens = float(burst)
        # Grant a token only when a little more than one has accrued. Genesys' bucket starts when
        # our first request *arrives*, ours when it is *sent*; without this head-room a burst that
        # paces exactly at the limit earns a 429 (and a whole Retry-After second) now and then.
        self._need = min(self._capacity, 1.0 + self._rate * max(0.0, margin_seconds))
        # The same head-room for the shared bucket, larger: requests granted on several hosts reach
        # Genesys with more jitter between them than one process's do. One token less of burst
        # (the rate is unchanged) absorbs 1/rate seconds of it; without it, two replicas pacing
        # exactly at the limit still earn the odd 429.
        self._shared_burst = max(1.0, self._capacity - 1.0) if margin_seconds > 0 else self._capacity
        self._stamp = clock()  # tokens were exact at this instant
        self._paused_until = 0.0  # after a 429: no grants and no accrual until then
        self._held_until = 0.0  # the shared bucket is empty: no grants until then
        self._waiters: list[tuple[int, int]] = []  # heap of (priority, ticket)
        self._tickets = itertools.count()

    # -- internals (call with the lock held) --------------------------------------------------

    def _refill(self, now: float) -> None:
        # No accrual while paused: after a 429 the bucket restarts empty at the end of the pause,
        # so we do not immediately burst back into the limit.
        start = max(self._stamp, self._paused_until)
        if now > start:
            self._tokens = min(self._capacity, self._tokens + (now - start) * self._rate)
        self._stamp = max(now, self._stamp)

    def _seconds_until_token(self, now: float) -> float:
        blocked = max(self._paused_until, self._held_until) - now
        missing = max(0.0, self._need - self._tokens) / self._rate
        if blocked > 0:
            return blocked + (missing if now < self._paused_until else 0.0)
        return missing

    def _try_fast(self, now: float) -> bool:
        if self._waiters or now < max(self._paused_until, self._held_until) or self._tokens < self._need:
            return False
        self._tokens -= 1.0
        return True

    # -- public API ---------------------------------------------------------------------------

    def acquire(self, priority: Priority = Priority.CRITICAL, timeout: float | None = None) -> bool:
        """Take one token, waiting behind higher-priority and earlier waiters.

        Returns False if no token could be had within `timeout` seconds (None = wait forever).
        """
        # Deadlines use the real clock (Condition.wait sleeps in real time); the injectable
        # clock only drives token accounting, which keeps tests deterministic.
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        entry = (int(priority), next(self._tickets))
        while True:
            if not self._acquire_local(entry, deadline):
                return False
            wait = self._take_shared()
            if wait <= 0.0:
                return True
            self._hold(wait)  # keeps `entry`: the retry keeps its place in the queue

    def _acquire_local(self, entry: tuple[int, int], deadline: float | None) -> bool:
        with self._cond:
            now = self._clock()
            self._refill(now)
            if self._try_fast(now):
                return True
            heapq.heappush(self._waiters, entry)
            try:
                while True:
                    now = self._clock()
                    self._refill(now)
                    wait: float | None = None  # not our turn: sleep until the queue changes
                    if self._waiters[0] == entry:
                        wait = self._seconds_until_token(now)
                        if wait <= 0.0:
                            heapq.heappop(self._waiters)
                            self._tokens -= 1.0
                            self._cond.notify_all()  # the next in line may be servable too
                            return True
                    if deadline is not None:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0.0:
                            self._remove(entry)
                            return False
                        wait = remaining if wait is None else min(wait, remaining)
                    self._cond.wait(wait)
            except BaseException:
                self._remove(entry)
                raise

    def _take_shared(self) -> float:
        """0.0 when the shared bucket granted a token (or there is none), else seconds to wait."""
        if self._budget is None:
            return 0.0
        try:
            wait = self._budget.take(
                self._budget_key, rate_per_second=self._rate, burst=self._shared_burst, now=self._wall_clock()
            )
        except Exception as error:  # the database is down: pace locally rather than stop working
            now = time.monotonic()
            if now - self._budget_error_logged >= _BUDGET_ERROR_LOG_INTERVAL:
                self._budget_error_logged = now
                log.warning(
                    "Shared Genesys rate budget unavailable (%s); pacing this replica alone", type(error).__name__
                )
            return 0.0
        return max(0.0, float(wait))

    def _hold(self, seconds: float) -> None:
        """The shared bucket refused: give the local token back, and let nobody here try for `seconds`."""
        with self._cond:
            now = self._clock()
            self._refill(now)
            self._tokens = min(self._capacity, self._tokens + 1.0)
            self._held_until = max(self._held_until, now + seconds)
            self._cond.notify_all()

    def _remove(self, entry: tuple[int, int]) -> None:
        try:
            self._waiters.remove(entry)
        except ValueError:
            return
        heapq.heapify(self._waiters)
        self._cond.notify_all()  # the head may have changed

    def pause_for(self, seconds: float) -> None:
        """Make every caller wait `seconds` from now (a 429 with Retry-After arrived anyway)."""
        if seconds <= 0:
            return
        with self._cond:
            now = self._clock()
            self._refill(now)
            self._paused_until = max(self._paused_until, now + seconds)
            self._tokens = 0.0
            self._cond.notify_all()

    def paused_for(self) -> float:
        """Seconds left in the current pause (0 if none); for diagnostics and tests."""
        with self._cond:
            return max(0.0, self._paused_until - self._clock())

    def waiting(self) -> int:
        """Number of threads currently queued for a token."""
        with self._cond:
            return len(self._waiters)
