"""What every use case shares: the ports, the policy, the settings, and one way to change state.

All state changes go through `Context.move`, so each one is compare-and-set, audited, counted
in the metrics and announced to the chat side, in the same order, everywhere.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.domain.parsing import AGENT_CHAT, AGENT_EMAIL, NUMBER
from bot.domain.policy import Policy
from bot.domain.request import WORK_STATES, RequestState, TransferRequest
from bot.ops.metrics import count_ending
from bot.ports.chat import Notifier, People
from bot.ports.clock import Clock, SystemClock
from bot.ports.genesys import GenesysPort
from bot.ports.store import RequestStore, StoreUnavailable
from bot.service.agents import AgentDirectory
from bot.service.queues import QueueDirectory
from bot.service.resolving import Resolver

log = logging.getLogger(__name__)
S = RequestState
SYSTEM = "system"

_OUTCOME = {
    S.SUCCEEDED: "succeeded", S.FAILED: "failed", S.UNCERTAIN: "uncertain", S.REFUSED: "refused",
    S.DENIED: "denied", S.EXPIRED: "expired", S.CANCELLED: "cancelled", S.SUPERSEDED: "superseded",
}


@dataclass(frozen=True)
class ServiceConfig:
    approval_ttl: timedelta = timedelta(seconds=900)
    confirm_timeout: timedelta = timedelta(seconds=600)
    lease: timedelta = timedelta(seconds=15)
    # A request a dead process left before anything was sent is carried on if it is this recent
    # (the requester still expects it); older ones are closed as "not done, nothing sent".
    resume_window: timedelta = timedelta(minutes=5)
    retention: timedelta = timedelta(days=90)
    external_prefixes: tuple[str, ...] = ()
    # After a 202 the database must record it; retry this long before leaving it to recovery.
    store_retry_seconds: float = 30.0
    # Genesys is the built-in simulator: every request is marked `simulated` in the audit.
    simulated: bool = False


class _NoNotifier:
    def changed(self, request: TransferRequest) -> None:
        return None


@dataclass
class Context:
    genesys: GenesysPort
    store: RequestStore
    people: People
    policy: Policy
    notifier: Notifier = field(default_factory=_NoNotifier)
    config: ServiceConfig = field(default_factory=ServiceConfig)
    clock: Clock = field(default_factory=SystemClock)
    sleep: Callable[[float], None] = time.sleep
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    queues: QueueDirectory | None = None
    agents: AgentDirectory | None = None
    resolver: Resolver | None = None

    def __post_init__(self) -> None:
        self.queues = self.queues or QueueDirectory(self.genesys)
        self.agents = self.agents or AgentDirectory(self.genesys, self.people)
        self.resolver = self.resolver or Resolver(
            self.genesys, self.queues, self.agents, external_prefixes=lambda: self.config.external_prefixes
        )

    def now(self) -> datetime:
        return self.clock.now()

    def lease_until(self) -> datetime:
        return self.now() + self.config.lease

    def move(
        self,
        request: TransferRequest,
        expected: Iterable[RequestState],
        new_state: RequestState,
        *,
        actor: str = SYSTEM,
        changes: Mapping[str, Any] | None = None,
        reason: str | None = None,
        record_actor: bool = False,
        must_record: bool = False,
    ) -> TransferRequest | None:
        """Compare-and-set, then metrics and the chat side. None if someone else moved it first.

        must_record: the change reports something that already happened in Genesys (a 202),
        so a database hiccup is retried for a while instead of losing the truth.
        """
        attempt = 0
        deadline = time.monotonic() + (self.config.store_retry_seconds if must_record else 0)
        while True:
            try:
                lease = (self.instance_id, self.lease_until()) if new_state in WORK_STATES else None
                moved = self.store.transition(
                    request.id, expected, new_state, actor=actor, at=self.now(), changes=changes,
                    reason=reason, record_actor=record_actor, lease=lease,
                )
                break
            except StoreUnavailable:
                attempt += 1
                if time.monotonic() >= deadline:
                    raise
                log.warning("store unavailable recording %s for request %s; retrying", new_state, request.id)
                self.sleep(min(0.2 * 2**attempt, 3.0))
        if moved is None:
            return None
        if new_state not in WORK_STATES:
            # Waiting (pending), confirming (accepted) and final requests are nobody's lease:
            # confirmations are picked up by whichever replica is free.
            with contextlib.suppress(StoreUnavailable):
                self.store.release(moved.id, self.instance_id)
        if new_state.is_final:
            count_ending(kind_of(moved), _OUTCOME[new_state])
        self.announce(moved)
        return moved

    def announce(self, request: TransferRequest) -> None:
        try:
            self.notifier.changed(request)
        except Exception:  # the chat side reconciles later; state is already safe
            log.exception("could not hand request %s to the chat side", request.id)


def kind_of(request: TransferRequest) -> str:
    """The target kind for metrics, guessed from what was typed when nothing was resolved."""
    if request.target is not None:
        return request.target.kind.value
    text = request.ask.target
    if text.startswith(NUMBER):
        return "number"
    if text.startswith((AGENT_CHAT, AGENT_EMAIL)):
        return "agent"
    return "queue"
