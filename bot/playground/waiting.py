"""Wait on a Condition until a predicate holds, with a deadline: shared by the fakes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def wait_on(
    cond: threading.Condition, predicate: Callable[[], Any], timeout: float, describe: Callable[[], str]
) -> Any:
    """Return the predicate's first truthy value; AssertionError with describe() after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with cond:
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(describe())
            cond.wait(min(remaining, 0.05))
