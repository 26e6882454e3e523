"""A TransferService on in-memory fakes: no simulator, no HTTP, no database."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.domain.policy import Policy
from bot.domain.request import Ask
from bot.service.context import Context, ServiceConfig
from bot.service.transfers import TransferService
from tests.fakes.memory_chat import FakeClock, FakePeople, RecordingNotifier
from tests.fakes.memory_genesys import T0, MemoryGenesys
from tests.fakes.memory_store import MemoryStore

REQUESTER = "U0AGENT01"
APPROVER = "U0SUPER01"
APPROVER2 = "U0SUPER02"
OUTSIDER = "U0OTHER01"


@dataclass
class World:
    genesys: MemoryGenesys
    store: MemoryStore
    notifier: RecordingNotifier
    people: FakePeople
    clock: FakeClock
    policy: Policy
    config: ServiceConfig = field(default_factory=ServiceConfig)
    _service: TransferService | None = None

    @property
    def service(self) -> TransferService:
        if self._service is None:
            ctx = Context(genesys=self.genesys, store=self.store, people=self.people, policy=self.policy,
                          notifier=self.notifier, config=self.config, clock=self.clock, sleep=lambda s: None,
                          instance_id="me")
            self._service = TransferService(ctx)
        return self._service

    def with_policy(self, policy: Policy) -> World:
        self.policy, self._service = policy, None
        return self

    def with_config(self, **kw) -> World:
        self.config, self._service = ServiceConfig(**{**self.config.__dict__, **kw}), None
        return self

    def ask(self, call: str, target: str, *, requester: str = REQUESTER, now: bool = False, **kw):
        return self.service.submit(Ask(call, target, now), requester, **kw)


@pytest.fixture
def world() -> World:
    genesys = MemoryGenesys()
    genesys.add_queue("Support_Tier1")
    genesys.add_queue("Support_Tier2")
    people = FakePeople(
        emails={REQUESTER: "lead@example.com", APPROVER: "sam@example.com", APPROVER2: "kim@example.com"},
        groups={"S0SUPERS": {APPROVER, APPROVER2}},
    )
    clock = FakeClock(T0)
    genesys.now = clock.now
    return World(genesys, MemoryStore(), RecordingNotifier(), people, clock,
                 Policy(default_approvers=frozenset({"S0SUPERS"})))


@pytest.fixture
def open_world(world: World) -> World:
    """Approval off: every transfer runs directly."""
    return world.with_policy(Policy())
