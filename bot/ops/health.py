"""Liveness and readiness, for load balancers and Kubernetes probes.

/healthz: the process serves (liveness: restart it only if this fails).
/readyz: it can do its job right now (readiness: send it traffic only if this passes):
the database answers, the Genesys client is loaded and has (or can get) a token, and Slack's
auth.test has succeeded once. Each failing check is named with its reason; no secret is shown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.logs import redact


@dataclass
class Check:
    name: str
    run: Callable[[], str | None]
    """Returns None when fine, else the reason (safe to show)."""
    cache_seconds: float = 5.0
    failing_cache_seconds: float = 1.0
    """A failing answer is kept briefly: a probe must see "ready" soon after the cause is gone
    (the Genesys check used to keep "still loading" for 10 s after the SDK was built)."""
    _at: float = field(default=-1e9)
    _result: str | None = field(default="not checked yet")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def result(self) -> str | None:
        with self._lock:
            keep = self.cache_seconds if self._result is None else self.failing_cache_seconds
            if time.monotonic() - self._at < keep:
                return self._result
        try:
            outcome = self.run()
        except Exception as error:  # a check that blows up is a failing check, with a safe reason
            outcome = f"{type(error).__name__}: {str(error)[:200]}"
        if outcome is not None:
            outcome = redact(outcome)  # the reason is shown to anyone who can reach /readyz
        with self._lock:
            self._at, self._result = time.monotonic(), outcome
        return outcome


class Readiness:
    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks

    def report(self) -> tuple[bool, dict]:
        results = {c.name: c.result() for c in self.checks}
        ok = all(r is None for r in results.values())
        return ok, {
            "status": "ready" if ok else "not ready",
            "checks": {name: ("ok" if r is None else {"failing": r}) for name, r in results.items()},
        }
