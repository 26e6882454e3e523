"""Marks work that a person is waiting on right now, so shared resources serve it first.

Two marks:
- `awaited()` wraps a whole Slack request until its ack is written. While any is open,
  background work (transfers, the SDK's import at start-up, confirmations) pauses at its next
  `yield_to_awaited()` for a bounded time. On 2 cores a burst of 50 slash commands otherwise
  shares the GIL with that work, and the last ack waited for it (issue 11's start burst).
- `urgent()` marks the ack path's own database writes; the store's write lock serves them first.

A Slack ack must be written within 3 s, and people notice anything over a few hundred ms. The
ack path shares one thing with background work (transfers, confirmations, the sweeper): SQLite's
single writer. Under a burst, background writes queued in front of the acks and made them wait
for whole transfers' worth of bookkeeping (measured with py-spy: 70% of the busy samples were
threads waiting for the write lock). The ack path runs inside `urgent()`; the store's write lock
lets urgent waiters go first.

A context variable, not a parameter, because the mark must cross the service layer (which must
not know about Slack acks) without widening every port method.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import logging
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar

_log = logging.getLogger(__name__)
_URGENT: ContextVar[bool] = ContextVar("urgent_work", default=False)
_awaited = 0
_yielding = 0
_lock = threading.Lock()
_quiet = threading.Condition(_lock)  # acks in flight went to zero
YIELD_LIMIT_SECONDS = 0.25
"""The longest background work pauses at one yield point: a burst of acks takes less than this,
and a stream of them must not starve the transfers they started."""


_deferred: list[Callable[[], object]] = []
_deferred_since = 0.0


@contextlib.contextmanager
def awaited() -> Iterator[None]:
    """Run the block as a request Slack is waiting on (until its ack is written)."""
    global _awaited
    with _quiet:
        _awaited += 1
    try:
        yield
    finally:
        with _quiet:
            _awaited -= 1
            if not _awaited:
                _quiet.notify_all()
                if _deferred:
                    _late.notify()  # the after-acks thread starts them, not this ack's thread


def after_acks(start: Callable[[], object]) -> None:
    """Call `start` (e.g. handing a job to a pool) once no ack is in flight; now if none is.

    A burst of 50 commands used to hand 50 jobs to worker threads that woke only to pause in
    yield_to_awaited(): thread start-up and wake-ups on the CPU the acks were waiting for.
    Deferred starts run when the last ack in flight is written, and after YIELD_LIMIT_SECONDS
    at most (a timer), so a steady stream of acks can't hold work back.
    """
    global _deferred_since, _flusher
    with _quiet:
        if _awaited:
            if not _deferred:
                _deferred_since = time.monotonic()
                if _flusher is None:
                    _flusher = threading.Thread(target=_flush_late, name="after-acks", daemon=True)
                    _flusher.start()
                _late.notify()
            _deferred.append(start)
            return
    start()


_flusher: threading.Thread | None = None
_late = threading.Condition(_lock)  # deferred work may be due


def _flush_late() -> None:
    """One thread for the whole process: starts deferred work once no ack is in flight, or once
    it has waited YIELD_LIMIT_SECONDS. Not the last ack's own thread: starting dozens of jobs
    (and their threads) there would delay that ack, which is the burst's slowest."""
    while True:
        with _quiet:
            while True:
                if _deferred:
                    left = _deferred_since + YIELD_LIMIT_SECONDS - time.monotonic()
                    if not _awaited or left <= 0:
                        break
                    _late.wait(left)
                else:
                    _late.wait()
            ready = _deferred[:]
            _deferred.clear()
        for start in ready:
            try:
                start()
            except Exception:  # a pool shut down meanwhile: the work stays stored; recovery resumes it
                _log.warning("could not start deferred work", exc_info=True)


def yield_to_awaited(limit: float | None = None) -> None:
    """Background work calls this at safe points: it returns at once unless acks are in flight."""
    global _yielding
    if not _awaited:  # the common case, without taking the lock
        return
    with _quiet:
        _yielding += 1
        try:
            _quiet.wait_for(lambda: not _awaited, timeout=YIELD_LIMIT_SECONDS if limit is None else limit)
        finally:
            _yielding -= 1


def yielding_now() -> int:
    """Threads pausing for acks right now (for tests and diagnostics)."""
    return _yielding


@contextlib.contextmanager
def urgent() -> Iterator[None]:
    """Run the block as work someone is waiting on (a Slack ack)."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


def is_urgent() -> bool:
    return _URGENT.get()


class PriorityLock:
    """A mutex that hands over to urgent waiters before the others.

    Background work can wait behind a stream of urgent work; that stream is bounded by how fast
    people type, so nothing starves for long. Each release wakes one waiter, not all of them:
    with dozens of threads waiting, waking all on every release cost more GIL time than the
    writes themselves.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._urgent = threading.Condition(self._mutex)
        self._normal = threading.Condition(self._mutex)
        self._held = False
        self._urgent_waiting = 0
        self._normal_waiting = 0

    @property
    def waiting(self) -> int:
        """Threads waiting for the lock now (for tests and diagnostics)."""
        return self._urgent_waiting + self._normal_waiting

    def __enter__(self) -> PriorityLock:
        urgent_now = is_urgent()
        with self._mutex:
            if urgent_now:
                self._urgent_waiting += 1
                try:
                    while self._held:
                        self._urgent.wait()
                finally:
                    self._urgent_waiting -= 1
            else:
                self._normal_waiting += 1
                try:
                    while self._held or self._urgent_waiting:
                        self._normal.wait()
                finally:
                    self._normal_waiting -= 1
            self._held = True
        return self

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            self._held = False
            if self._urgent_waiting:
                self._urgent.notify()
            elif self._normal_waiting:
                self._normal.notify()


class _YieldingLoader(importlib.machinery.SourceFileLoader):
    """A source loader that pauses before running the module (outside the global import lock)."""

    def exec_module(self, module: types.ModuleType) -> None:
        yield_to_awaited()
        super().exec_module(module)


class _YieldingFinder:
    """Finds one thread's pure-Python modules as usual, with a loader that pauses while acks are in flight.

    It must not pause in find_spec: CPython calls finders under the global import lock, so a pause
    there would stop every other thread's imports, the ack path's included. exec_module runs under
    the module's own lock only.
    """

    def __init__(self, thread_id: int) -> None:
        self.thread_id = thread_id

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if threading.get_ident() != self.thread_id:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return None  # packages' C extensions, namespace packages…: the usual machinery
        spec.loader = _YieldingLoader(spec.loader.name, spec.loader.path)
        return spec


@contextlib.contextmanager
def yielding_imports() -> Iterator[None]:
    """Imports made by this thread inside the block pause while Slack acks are in flight.

    For the Genesys SDK's import at start-up (hundreds of modules, even loaded piecewise): it must not
    hold the GIL while a burst of slash commands waits for acks.
    """
    finder = _YieldingFinder(threading.get_ident())
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
