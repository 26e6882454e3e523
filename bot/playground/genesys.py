"""The side panel's view of the simulated Genesys org, through the simulator's Python API.

One small adapter, so the panel does not care how the simulator exposes its org: today it reads
`world.conversations` / `world.queues` and each conversation's public JSON, and uses `add_call`,
`end_call`, `set_latency` and `inject`. When the simulator grows a richer API (live conversations,
queue observations), only this module changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

MODES = ("normal", "slow", "failing")
SLOW_SECONDS = 2.0
MOVED_SHOWN_SECONDS = 120.0
AGENTS = ("Alice Agent", "Bob Agent", "Dana Agent", "Eli Agent")


@dataclass(frozen=True)
class CallView:
    id: str
    media: str  # "voice" or "message"
    status: str  # "with agent", "waiting in queue", "ringing", "in IVR", "conference", "ended"
    agents: tuple[str, ...]
    queue: str | None
    started: float | None
    moved_from: str | None = None

    @property
    def live(self) -> bool:
        return self.status != "ended"

    @property
    def short_id(self) -> str:
        return self.id[:8]


@dataclass(frozen=True)
class QueueView:
    id: str
    name: str
    division: str
    agents_joined: int
    agents_busy: int
    waiting: int

    @property
    def agents_available(self) -> int:
        return max(0, self.agents_joined - self.agents_busy)


def _iso_epoch(value: str | None) -> float | None:
    if not value:
        return None
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _leg_state(participant: dict) -> str:
    media = (participant.get("calls") or participant.get("messages") or [{}])[0]
    return str(media.get("state") or "")


def describe(conversation: dict) -> tuple[str, str, tuple[str, ...], str | None]:
    """(media, status, agents, current queue) of a conversation in Genesys' public JSON."""
    participants = conversation.get("participants") or []
    media = "message" if any(p.get("messages") for p in participants) else "voice"
    live = [p for p in participants if not p.get("endTime") and _leg_state(p) not in ("terminated", "disconnected")]
    by = {purpose: [p for p in live if p.get("purpose") == purpose] for purpose in ("customer", "agent", "acd", "ivr")}
    connected_agents = [p for p in by["agent"] if _leg_state(p) == "connected"]
    agents = tuple(p.get("name") or "agent" for p in connected_agents)
    queue = None
    if by["acd"]:
        queue = by["acd"][-1].get("queueName")
    elif connected_agents or by["agent"]:
        queue = (connected_agents or by["agent"])[-1].get("queueName")
    if not by["customer"]:
        status = "ended"
    elif len(connected_agents) > 1:
        status = "conference"
    elif connected_agents:
        status = "with agent"
    elif by["agent"]:
        status, agents = "ringing", tuple(p.get("name") or "agent" for p in by["agent"])
    elif by["acd"]:
        status = "waiting in queue"
    elif by["ivr"]:
        status = "in IVR"
    else:
        status = "connected"
    return media, status, agents, queue


class SimulatedOrg:
    def __init__(self, simulator: Any) -> None:
        self.sim = simulator
        self.mode = "normal"
        self._lock = threading.Lock()
        self._last_queue: dict[str, str | None] = {}
        self._moved: dict[str, tuple[str | None, float]] = {}
        self._agent_turn = 0

    # ---- reading ----
    def _conversation_ids(self) -> list[str]:
        world = self.sim.world
        with world.lock:
            return list(world.conversations)

    def calls(self) -> list[CallView]:
        """Live conversations first (oldest first), then the ended ones."""
        views = []
        now = time.monotonic()
        for cid in self._conversation_ids():
            try:
                conversation = self.sim.conversation_json(cid)
            except KeyError:
                continue
            media, status, agents, queue = describe(conversation)
            with self._lock:
                if cid in self._last_queue and self._last_queue[cid] != queue and queue is not None:
                    self._moved[cid] = (self._last_queue[cid], now)
                self._last_queue[cid] = queue
                moved = self._moved.get(cid)
            moved_from = moved[0] if moved and now - moved[1] < MOVED_SHOWN_SECONDS else None
            views.append(CallView(cid, media, status, agents, queue, _iso_epoch(conversation.get("startTime")),
                                  moved_from))
        return [v for v in views if v.live] + [v for v in views if not v.live]

    def queues(self, calls: list[CallView] | None = None) -> list[QueueView]:
        calls = self.calls() if calls is None else calls
        world = self.sim.world
        with world.lock:
            queues = list(world.queues.values())
        out = []
        for q in sorted(queues, key=lambda q: (q.name.lower(), q.division_name)):
            mine = [c for c in calls if c.live and c.queue == q.name]
            waiting = sum(1 for c in mine if c.status == "waiting in queue")
            busy = sum(len(c.agents) for c in mine if c.status in ("with agent", "conference"))
            out.append(QueueView(q.id, q.name, q.division_name, q.joined_member_count, busy, waiting))
        return out

    def queue_named(self, name: str) -> Any:
        world = self.sim.world
        with world.lock:
            return next((q for q in world.queues.values() if q.name == name), None)

    # ---- changing ----
    def start_call(self, queue_id: str | None = None, agent: str | None = None) -> str:
        """A new voice call, connected to an agent (Alice first, if she is free), from the given queue."""
        world = self.sim.world
        with world.lock:
            queue = world.queues.get(queue_id) if queue_id else None
            if queue is None:
                queue = next(iter(world.queues.values()), None)
        if agent is None:
            busy = {a for c in self.calls() if c.live for a in c.agents}
            free = [a for a in AGENTS if a not in busy]
            if free:
                agent = free[0]
            else:
                agent = AGENTS[self._agent_turn % len(AGENTS)]
                self._agent_turn += 1
        call = self.sim.add_call("connected", queue=queue, agent_name=agent, started_seconds_ago=60.0)
        return call.id

    def end_call(self, conversation_id: str) -> None:
        self.sim.end_call(conversation_id)

    def set_mode(self, mode: str) -> None:
        """normal; slow (every Genesys answer takes SLOW_SECONDS); failing (every API call answers 503)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.sim.clear_faults()
        self.sim.set_latency(SLOW_SECONDS if mode == "slow" else 0.0)
        if mode == "failing":
            self.sim.inject(method=None, path=r"^/api/v2/", status=503, times=None)
        self.mode = mode
