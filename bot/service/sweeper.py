"""Background duties, on every replica: leases, recovery, confirmations, expiry, retention.

Each duty is compare-and-set or lease-based in the store, so replicas running them at the same
time never double up. Duties from other layers (the chat side's reconciliation) register too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from bot.ports.store import StoreUnavailable
from bot.ports.urgency import yield_to_awaited

log = logging.getLogger(__name__)


@dataclass
class Duty:
    name: str
    run: Callable[[], object]
    every: float
    last: float = field(default=0.0)
    warned: float = field(default=-1e9)


class Sweeper:
    def __init__(self, *, tick: float = 0.25) -> None:
        self._duties: list[Duty] = []
        self._tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweeper", daemon=True)

    def add(self, name: str, run: Callable[[], object], every: float) -> Sweeper:
        self._duties.append(Duty(name, run, every))
        return self

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def run_once(self) -> None:
        """Every duty once, now (tests, and the first pass after a restart)."""
        for duty in self._duties:
            self._run(duty)

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            now = time.monotonic()
            for duty in self._duties:
                if now - duty.last >= duty.every:
                    self._run(duty)
                if self._stop.is_set():
                    return

    def _run(self, duty: Duty) -> None:
        yield_to_awaited()  # a burst of Slack acks goes first (bounded; see bot.ports.urgency)
        duty.last = time.monotonic()
        try:
            duty.run()
        except StoreUnavailable as error:
            # One line per duty per minute while the database is away, not a traceback per tick.
            if duty.last - duty.warned >= 60.0:
                duty.warned = duty.last
                log.warning("background duty %s skipped: %s", duty.name, error)
        except Exception:
            log.exception("background duty %s failed", duty.name)

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def fan_out(executor: Executor, items, work: Callable) -> None:
    """Hand each item to the worker pool (recoveries and checks must not serialise on the sweeper)."""
    for item in items:
        executor.submit(_guarded, work, item)


def _guarded(work: Callable, item) -> None:
    yield_to_awaited()
    try:
        work(item)
    except Exception:
        log.exception("background work on %s failed", getattr(item, "id", item))
