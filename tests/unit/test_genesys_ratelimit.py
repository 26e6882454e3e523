"""Priority token bucket: ordering, pacing, pauses, timeouts."""

from __future__ import annotations

import threading
import time

from bot.genesys.ratelimit import PriorityRateLimiter, budget_key
from bot.ports.genesys import Priority


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
    # 1 token/s: a loaded machine stalling the test for a few ms can't refill the bucket in between.
    limiter = PriorityRateLimiter(rate_per_minute=60, burst=10)
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


# -- a rate budget shared by replicas ----------------------------------------------------------


class FakeBudget:
    """In-memory RateBudget: one token bucket per key, shared by every limiter given it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self.keys: set[str] = set()

    def take(self, key: str, *, rate_per_second: float, burst: float, now: float) -> float:
        with self._lock:
            self.keys.add(key)
            tokens, stamp = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + max(0.0, now - stamp) * rate_per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate_per_second


def _hammer(limiters: list[PriorityRateLimiter], seconds: float) -> int:
    granted = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(limiter: PriorityRateLimiter) -> None:
        nonlocal granted
        while time.monotonic() < stop:
            if limiter.acquire(Priority.CRITICAL, timeout=max(0.0, stop - time.monotonic())):
                with lock:
                    if time.monotonic() <= stop:
                        granted += 1

    threads = [threading.Thread(target=worker, args=(lim,)) for lim in limiters for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return granted


def test_two_replicas_sharing_a_budget_stay_under_one_rate() -> None:
    budget = FakeBudget()
    key = budget_key("oauth-client-id")
    # Each replica alone would allow 3 + 10/s; together they must not exceed that either.
    replicas = [
        PriorityRateLimiter(rate_per_minute=600, burst=3, margin_seconds=0, budget=budget, budget_key=key)
        for _ in range(2)
    ]
    seconds = 1.5
    granted = _hammer(replicas, seconds)
    assert granted <= 3 + 10 * seconds + 2, granted
    assert granted >= 10, granted  # and they do get work done
    assert budget.keys == {key}


def test_without_the_shared_budget_two_replicas_would_double_the_rate() -> None:
    replicas = [PriorityRateLimiter(rate_per_minute=600, burst=3, margin_seconds=0) for _ in range(2)]
    seconds = 1.5
    assert _hammer(replicas, seconds) > 3 + 10 * seconds + 2


def test_shared_budget_keeps_priority_order() -> None:
    budget = FakeBudget()
    key = budget_key("c")
    other = PriorityRateLimiter(rate_per_minute=600, burst=1, margin_seconds=0, budget=budget, budget_key=key)
    limiter = PriorityRateLimiter(rate_per_minute=600, burst=5, margin_seconds=0, budget=budget, budget_key=key)
    assert other.acquire(Priority.CRITICAL, timeout=0)  # the other replica empties the shared bucket
    order: list[str] = []
    lock = threading.Lock()

    def worker(label: str, prio: Priority) -> None:
        assert limiter.acquire(prio, timeout=10)
        with lock:
            order.append(label)

    bg = threading.Thread(target=worker, args=("bg", Priority.BACKGROUND))
    bg.start()
    wait_until(lambda: limiter.waiting() == 1)
    crit = threading.Thread(target=worker, args=("crit", Priority.CRITICAL))
    crit.start()
    bg.join(timeout=10)
    crit.join(timeout=10)
    # The background request asked first, but once the shared bucket refilled the critical one
    # (queued while the background one was held back) went first.
    assert order == ["crit", "bg"], order


def test_shared_budget_failure_falls_back_to_local_pacing(caplog) -> None:
    class Broken:
        def take(self, key: str, *, rate_per_second: float, burst: float, now: float) -> float:
            raise ConnectionError("database down")

    limiter = PriorityRateLimiter(rate_per_minute=600, burst=2, budget=Broken(), budget_key="k")
    assert limiter.acquire(Priority.CRITICAL, timeout=1)
    assert limiter.acquire(Priority.CRITICAL, timeout=1)
    assert "pacing this replica alone" in caplog.text


def test_budget_key_names_the_client_not_its_secret() -> None:
    assert budget_key("client-a") == budget_key("client-a") != budget_key("client-b")
    assert "client-a" not in budget_key("client-a")


def test_shared_bucket_keeps_one_token_of_head_room_for_jitter_between_hosts() -> None:
    seen: list[float] = []

    class Recording(FakeBudget):
        def take(self, key: str, *, rate_per_second: float, burst: float, now: float) -> float:
            seen.append(burst)
            return super().take(key, rate_per_second=rate_per_second, burst=burst, now=now)

    budget = Recording()
    limiter = PriorityRateLimiter(rate_per_minute=300, burst=10, budget=budget, budget_key="k")
    assert limiter.acquire(Priority.CRITICAL, timeout=1)
    assert seen == [9.0]  # Genesys allows 10: requests from two replicas may arrive closer than granted
