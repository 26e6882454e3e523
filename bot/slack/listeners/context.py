"""What listeners need: the service, and a place to run slow work off Bolt's 5-thread pool."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

from bot.service.transfers import TransferService

log = logging.getLogger(__name__)


@dataclass
class ListenerContext:
    service: Callable[[], TransferService]
    """Returns the service; it may block briefly while the Genesys SDK finishes importing."""
    executor: Executor

    def run_later(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run after ack, on our own pool, so a slow Genesys never delays the next ack."""

        def guarded() -> Any:
            try:
                return fn(*args)
            except Exception:
                log.exception("background work %s failed", getattr(fn, "__name__", fn))
                return None

        return self.executor.submit(guarded)
