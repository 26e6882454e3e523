"""Client-side pacing of Genesys requests: a token bucket with two priorities.

Genesys allows ~300 requests/min per client-credentials token and answers bursts above that with
429s. Pacing on our side keeps a busy bot under the limit instead of provoking 429 storms (each of
which costs a Retry-After wait). Priorities matter because post-transfer confirmation reads
(BACKGROUND) must never delay another user's transfer (CRITICAL): when tokens are scarce, every
waiting CRITICAL request is served before any BACKGROUND one; within a priority, first come first
served.

Deliberately no SDK import: this is plain threading.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from bot.genesys.port import Priority


class PriorityRateLimiter:
    """Thread-safe token bucket: `rate_per_minute` sustained, `burst` tokens of head-room.

    Waiters sleep on a Condition until the moment the next token is due (no polling loop); the
    fast path — tokens available and nobody queued ahead — takes the lock once and returns.
    """

    def __init__(
        self,
        rate_per_minute: float = 300,
        burst: int = 10,
        *,
        margin_seconds: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._rate = rate_per_minute / 60.0  # tokens per second
        self._capacity = float(burst)
        self._clock = clock
        self._cond = threading.Condition(threading.Lock())
        self._tokens = float(burst)
        # Grant a token only when a little more than one has accrued. Genesys' bucket starts when
        # our first request *arrives*, ours when it is *sent*; without this head-room a burst that
        # paces exactly at the limit earns a 429 (and a whole Retry-After second) now and then.
        self._need = min(self._capacity, 1.0 + self._rate * max(0.0, margin_seconds))
        self._stamp = clock()  # tokens were exact at this instant
        self._paused_until = 0.0
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
        if now < self._paused_until:
            base = self._paused_until
            missing = max(0.0, self._need - self._tokens)
            return (base - now) + missing / self._rate
        missing = self._need - self._tokens
        return 0.0 if missing <= 0 else missing / self._rate

    # -- public API ---------------------------------------------------------------------------

    def acquire(self, priority: Priority = Priority.CRITICAL, timeout: float | None = None) -> bool:
        """Take one token, waiting behind higher-priority and earlier waiters.

        Returns False if no token could be had within `timeout` seconds (None = wait forever).
        """
        prio = int(priority)
        with self._cond:
            now = self._clock()
            self._refill(now)
            if not self._waiters and now >= self._paused_until and self._tokens >= self._need:
                self._tokens -= 1.0
                return True

            # Deadlines use the real clock (Condition.wait sleeps in real time); the injectable
            # clock only drives token accounting, which keeps tests deterministic.
            deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
            entry = (prio, next(self._tickets))
            heapq.heappush(self._waiters, entry)
            try:
                while True:
                    now = self._clock()
                    self._refill(now)
                    if self._waiters[0] == entry:
                        wait = self._seconds_until_token(now)
                        if wait <= 0.0:
                            heapq.heappop(self._waiters)
                            self._tokens -= 1.0
                            # The next in line may be servable too (burst of tokens available).
                            self._cond.notify_all()
                            return True
                    else:
                        wait = None  # not our turn: sleep until the queue changes
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
