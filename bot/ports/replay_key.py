"""A slash command's replay key, checked at its first effect rather than before its listener runs.

Why: on a SQLite file every ack-path write is a round trip to one writer thread, and under a
burst of 50 /transfer each round trip took ~8 ms, waiting for the GIL rather than the disk
(traced per request, issue 11). A /transfer made two: the replay key (request guard), then the
request. Now the guard leaves the key here; the request's own insert writes it in the same
transaction (SqlRequestStore.add), and anything else that would act first (a hand-over to a pool)
checks it at that moment. If nothing did, the guard checks it after the listener returns, and
throws a replay's answer away. A replay still does nothing: no row, no job, no message.

The listener must run in the guard's thread (Bolt's process_before_response), where this
context variable is visible.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime


class Replayed(Exception):
    """The request being stored comes from a Slack request already handled: nothing was written."""


@dataclass
class PendingReplayKey:
    key: str
    expires_at: datetime
    check_now: Callable[[str, datetime], bool]
    """ReplayGuard.first_time, failing open (True) when the store can't answer."""
    first_time: bool | None = None  # None until something has checked it

    def settle(self) -> bool:
        """True if this is the first time the request is seen; checked now unless already known."""
        if self.first_time is None:
            self.first_time = self.check_now(self.key, self.expires_at)
        return self.first_time


_PENDING: ContextVar[PendingReplayKey | None] = ContextVar("pending_replay_key", default=None)


@contextlib.contextmanager
def deferred_replay_check(key: str, expires_at: datetime,
                          check_now: Callable[[str, datetime], bool]) -> Iterator[PendingReplayKey]:
    """While the block runs, the request's replay key waits for its first effect (see the module doc)."""
    pending = PendingReplayKey(key, expires_at, check_now)
    token = _PENDING.set(pending)
    try:
        yield pending
    finally:
        _PENDING.reset(token)


def unchecked_replay_key() -> PendingReplayKey | None:
    """The key of the Slack request this thread serves, if nothing has checked it yet."""
    pending = _PENDING.get()
    return pending if pending is not None and pending.first_time is None else None


def first_time_so_far() -> bool:
    """False when the Slack request this thread serves is a replay (checking it now if need be)."""
    pending = _PENDING.get()
    return True if pending is None else pending.settle()
