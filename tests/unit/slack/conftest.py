"""Fixtures for the Slack layer: requests in every shape, and a SlackDeps on in-memory fakes."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.conversation import Media, QueueHealth
from bot.domain.problems import Problem
from bot.domain.request import Ask, RequestState, Snapshot, TransferRequest, Vote
from bot.domain.target import Target, TargetKind
from bot.slack.deps import SlackDeps
from tests.fakes.memory_genesys import T0
from tests.unit.service.conftest import APPROVER, REQUESTER, World, open_world, world  # noqa: F401

CONV = "3f1c2a4e-9b7d-4c1e-8f00-1234567890ab"
QUEUE_ID = "7d0a2c3e-1111-4c1e-8f00-1234567890ab"
REQ_ID = "0123456789abcdef0123456789abcdef"
NOW = T0 + timedelta(minutes=2)


def make_request(state: RequestState = RequestState.PENDING, **changes: Any) -> TransferRequest:
    """A validated request to Support Tier 2, as the service would store it; override anything."""
    base = TransferRequest(
        id=REQ_ID,
        requester_id=REQUESTER,
        state=state,
        created_at=T0,
        ask=Ask(CONV, "Support Tier 2"),
        conversation_id=CONV,
        target=Target(TargetKind.QUEUE, QUEUE_ID, "Support Tier 2", "Home"),
        snapshot=Snapshot(
            conversation_id=CONV, media=Media.CALL, agent_participant_id="p-agent", agent_name="Alice Agent",
            queue_at_request_id="q-sales", queue_at_request_name="Sales", started=T0 - timedelta(minutes=4, seconds=10),
            target_health=QueueHealth(3, 5, 120),
        ),
        needs_approval=True,
        approvers=("S0SUPERS",),
        expires_at=T0 + timedelta(minutes=15),
        updated_at=T0,
    )
    return replace(base, **changes)


def voted(request: TransferRequest, *approvers: str) -> TransferRequest:
    return replace(request, approvals_required=2, votes=tuple(Vote(a, T0) for a in approvers))


def problem_request(problem: Problem, state: RequestState = RequestState.REFUSED, **changes: Any) -> TransferRequest:
    return make_request(state, problem=problem, **changes)


class Recorder:
    """One timeline for ack, run_later and Slack calls, so tests can assert what happened first."""

    def __init__(self, w: World | None = None) -> None:
        self.events: list[tuple[str, Any]] = []
        self.acks: list[dict[str, Any]] = []
        self.jobs: list[tuple[Any, tuple[Any, ...]]] = []
        self.world = w

    def ack(self, *args: Any, **kwargs: Any) -> None:
        body: dict[str, Any] = dict(args[0]) if args and isinstance(args[0], dict) else {}
        if args and isinstance(args[0], str):
            body["text"] = args[0]
        body.update(kwargs)
        genesys_calls = len(self.world.genesys.calls) if self.world else 0
        self.acks.append(body)
        self.events.append(("ack", genesys_calls))

    def run_later(self, fn: Any, *args: Any) -> Future:
        self.jobs.append((fn, args))
        self.events.append(("run_later", getattr(fn, "__name__", str(fn))))
        future: Future = Future()
        return future

    def after_ack(self, fn: Any, *args: Any) -> None:
        """Noted on the timeline, then run at once (the real one runs on a pool after the listener returns)."""
        self.events.append(("after_ack", getattr(fn, "__name__", str(fn))))
        fn(*args)

    def run_jobs(self) -> None:
        while self.jobs:
            fn, args = self.jobs.pop(0)
            fn(*args)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


@dataclass
class FakeDelivery:
    recorder: Recorder
    open_ok: bool = True
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    told: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    opened: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def respond(self, response_url: str, body: dict[str, Any], *, request_id: str | None = None) -> None:
        self.responses.append((response_url, body))
        self.recorder.events.append(("respond", response_url))

    def tell_user(self, user: str, body: dict[str, Any], **kw: Any) -> None:
        self.told.append((user, body, kw))
        self.recorder.events.append(("tell_user", user))

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> bool:
        self.opened.append((trigger_id, view))
        self.recorder.events.append(("open_view", trigger_id))
        return self.open_ok

    def push_view(self, trigger_id: str, view: dict[str, Any]) -> bool:
        return self.open_view(trigger_id, view)


@dataclass
class FakeHome:
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish(self, user: str, *, flash: str | None = None, page: int = 0) -> None:
        self.published.append((user, {"flash": flash, "page": page}))


@dataclass
class FakeState:
    urls: dict[str, tuple[str, Any]] = field(default_factory=dict)
    homes: list[tuple[str, Any]] = field(default_factory=list)
    fail: bool = False

    def remember_response_url(self, request_id: str, url: str, expires_at: Any) -> None:
        if self.fail:
            raise RuntimeError("state store down")
        self.urls[request_id] = (url, expires_at)

    def home_opened(self, user_id: str, at: Any) -> None:
        self.homes.append((user_id, at))


@dataclass
class Harness:
    world: World
    recorder: Recorder
    delivery: FakeDelivery
    home: FakeHome
    state: FakeState
    deps: SlackDeps


HOOK = "https://hooks.slack.com/commands/T1/1/abc"


@pytest.fixture
def harness(world: World) -> Harness:  # noqa: F811 (the service fixture, imported above)
    recorder = Recorder(world)
    delivery, home, state = FakeDelivery(recorder), FakeHome(), FakeState()
    service = world.service
    deps = SlackDeps(
        service=service, queues=service.ctx.queues, run_later=recorder.run_later, after_ack=recorder.after_ack,
        delivery=delivery, state=state,
        home=home, people=world.people, is_approver=lambda user: user == APPROVER,
        may_see_number=lambda user, request: user == APPROVER, now=world.clock.now,
        response_url_ok=lambda url: url.startswith("https://hooks.slack.com/"),
    )
    return Harness(world, recorder, delivery, home, state, deps)


def _problem_for(state: RequestState) -> Problem | None:
    from bot.domain.problems import Code

    return {
        RequestState.FAILED: Problem(Code.FAILED_AFTER_ACCEPT, {"genesys_state": "Timeout", "agent": "Alice Agent"},
                                     "corr-9"),
        RequestState.UNCERTAIN: Problem(Code.NEVER_CONFIRMED, {"ended": False, "waited_seconds": 600}, "corr-9"),
        RequestState.REFUSED: Problem(Code.CALL_ENDED, {}),
        RequestState.SUPERSEDED: Problem(Code.CALL_CHANGED, {"agent_then": "Alice Agent", "agent_now": "Bob"}),
    }.get(state)


def in_state(state: RequestState, **changes: Any) -> TransferRequest:
    """A request as it looks in `state` after the usual path (who acted, when, correlation id)."""
    acted = {
        RequestState.APPROVED: APPROVER, RequestState.EXECUTING: APPROVER, RequestState.ACCEPTED: APPROVER,
        RequestState.SUCCEEDED: APPROVER, RequestState.FAILED: APPROVER, RequestState.UNCERTAIN: APPROVER,
        RequestState.SUPERSEDED: APPROVER, RequestState.DENIED: APPROVER, RequestState.CANCELLED: REQUESTER,
    }.get(state)
    base: dict[str, Any] = {"problem": _problem_for(state)}
    if acted:
        base.update(acted_by=acted, acted_at=T0 + timedelta(minutes=2))
    if state in (RequestState.ACCEPTED, RequestState.SUCCEEDED, RequestState.FAILED, RequestState.UNCERTAIN):
        base.update(correlation_id="corr-9", sent_at=T0 + timedelta(minutes=2))
    if state is RequestState.SUCCEEDED:
        base.update(updated_at=T0 + timedelta(minutes=3))
    base.update(changes)
    return make_request(state, **base)


def targets() -> dict[str, dict[str, Any]]:
    """The same request aimed at each kind of target."""
    return {
        "queue": {},
        "agent": {"target": Target(TargetKind.AGENT, "u-bob", "Bob", "bob@example.com"),
                  "ask": Ask(CONV, "agent-email:bob@example.com")},
        "number": {"target": Target(TargetKind.NUMBER, "+14155550100", "+14155550100"),
                   "ask": Ask(CONV, "number:+14155550100")},
    }
