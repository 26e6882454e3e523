"""Priority token bucket: ordering, pacing, pauses, timeouts."""

from __future__ import annotations

import threading
import time

from bot.genesys.port import Priority
from bot.genesys.ratelimit import PriorityRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def test_critical_waiters_are_served_before_background_fifo_within_priority() -> None:
    clock = FakeClock()
    # 6000/min = 100 tokens/s: the head re-checks the (frozen) fake clock every ~10 ms.
    limiter = PriorityRateLimiter(rate_per_minute=6000, burst=1, clock=clock)
    assert limiter.acquire(Priority.CRITICAL, timeout=0)  # drain the only token

    order: list[str] = []
    order_lock = threading.Lock()

    def worker(label: str, prio: Priority) -> None:
        assert limiter.acquire(prio, timeout=30)
        with order_lock:
            order.append(label)

    threads = []
    labels = [(f"bg{i}", Priority.BACKGROUND) for i in range(3)]
    labels += [(f"crit{i}", Priority.CRITICAL) for i in range(3)]
    for n, (label, prio) in enumerate(labels, start=1):
        t = threading.Thread(target=worker, args=(label, prio), daemon=True)
        t.start()
        threads.append(t)
        wait_until(lambda n=n: limiter.waiting() == n)  # enqueue in a known order

    for served in range(1, 7):
        clock.advance(0.011)  # a little more than one token
        wait_until(lambda served=served: len(order) >= served)
    for t in threads:
        t.join(timeout=5)

    assert order == ["crit0", "crit1", "crit2", "bg0", "bg1", "bg2"]
    assert limiter.waiting() == 0


def test_rate_is_respected_across_threads() -> None:
    # 1200/min = 20 tokens/s, burst 5: 25 acquisitions need at least (25 - 5) / 20 = 1.0 s.
    limiter = PriorityRateLimiter(rate_per_minute=1200, burst=5)
    count = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal count
        for _ in range(5):
            assert limiter.acquire(Priority.CRITICAL, timeout=30)
            with lock:
                count += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    elapsed = time.monotonic() - started
    assert count == 25
    assert elapsed >= 0.9, elapsed  # never faster than the rate allows
    assert elapsed < 8.0, elapsed  # generous: slow CI machines


def test_fast_path_when_tokens_available() -> None:
    limiter = PriorityRateLimiter(rate_per_minute=60, burst=200, margin_seconds=0)
    started = time.monotonic()
    for _ in range(200):
        assert limiter.acquire(Priority.BACKGROUND, timeout=0)
    assert time.monotonic() - started < 1.0
    assert not limiter.acquire(Priority.CRITICAL, timeout=0)


def test_timeout_returns_false_and_leaves_the_queue() -> None:
    limiter = PriorityRateLimiter(rate_per_minute=60, burst=1)
    assert limiter.acquire(Priority.CRITICAL)
    started = time.monotonic()
    assert not limiter.acquire(Priority.CRITICAL, timeout=0.1)
    assert 0.05 <= time.monotonic() - started < 2.0
    assert limiter.waiting() == 0


def test_timed_out_critical_head_does_not_block_background() -> None:
    clock = FakeClock()
    limiter = PriorityRateLimiter(rate_per_minute=6000, burst=1, clock=clock)
    assert limiter.acquire(Priority.CRITICAL, timeout=0)
    result: list[bool] = []
    bg = threading.Thread(target=lambda: result.append(limiter.acquire(Priority.BACKGROUND, timeout=30)))
    bg.start()
    wait_until(lambda: limiter.waiting() == 1)
    assert not limiter.acquire(Priority.CRITICAL, timeout=0.05)  # gives up, leaves the queue
    clock.advance(0.02)
    bg.join(timeout=5)
    assert result == [True]


def test_pause_for_makes_everyone_wait() -> None:
    limiter = PriorityRateLimiter(rate_per_minute=6000, burst=10)
    limiter.pause_for(0.3)
    assert limiter.paused_for() > 0
    started = time.monotonic()
    assert limiter.acquire(Priority.CRITICAL, timeout=5)
    assert time.monotonic() - started >= 0.25
    assert not limiter.acquire(Priority.CRITICAL, timeout=0)  # bucket restarts empty


def test_pause_longer_than_timeout_fails_fast() -> None:
    limiter = PriorityRateLimiter(rate_per_minute=6000, burst=10)
    limiter.pause_for(30)
    started = time.monotonic()
    assert not limiter.acquire(Priority.CRITICAL, timeout=0.1)
    assert time.monotonic() - started < 2.0


def test_margin_keeps_a_little_head_room_without_changing_the_rate() -> None:
    clock = FakeClock()
    limiter = PriorityRateLimiter(rate_per_minute=60, burst=3, margin_seconds=0.5, clock=clock)
    granted = sum(limiter.acquire(Priority.CRITICAL, timeout=0) for _ in range(3))
    assert granted == 2  # the third waits until 1.5 tokens have accrued, not 1
    clock.advance(0.49)
    assert not limiter.acquire(Priority.CRITICAL, timeout=0)
    clock.advance(0.02)
    assert limiter.acquire(Priority.CRITICAL, timeout=0)
    clock.advance(0.97)
    assert not limiter.acquire(Priority.CRITICAL, timeout=0)
    clock.advance(0.04)
    assert limiter.acquire(Priority.CRITICAL, timeout=0)  # steady state: still one per second
