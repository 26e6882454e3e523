"""add() runs on Slack's acknowledgement path (3 s budget, shared with everything else), so it
must stay far below 10 ms on both engines. Run with -s to see the numbers.

Wall-clock timings mean little on an overloaded machine (load average above the CPU count: every
commit waits for the CPU and the disk), so there only gross regressions fail the test."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from bot.domain.request import Ask, RequestState, TransferRequest
from bot.store.requests import SqlRequestStore


def test_add_is_fast(store: SqlRequestStore) -> None:
    now = datetime.now(UTC)
    timings = []
    for i in range(350):
        request = TransferRequest(uuid.uuid4().hex, "U1", RequestState.RECEIVED, now, Ask("me", "Billing"))
        started = time.perf_counter()
        store.add(request, actor="U1", lease_owner="replica-1", lease_until=now + timedelta(seconds=30))
        if i >= 50:  # warm: connections open, statements compiled
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50, p99 = timings[len(timings) // 2], timings[int(len(timings) * 0.99)]
    load = os.getloadavg()[0]
    print(f"\nadd() on {store.dialect}: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(timings)} calls "
          f"(load average {load:.1f})")
    overloaded = load > (os.cpu_count() or 1)
    assert p50 < (40 if overloaded else 10)
