"""An in-memory GenesysPort for the fast service tests: a tiny org whose calls move on transfer.

It follows the same rules as the simulator where the service cares: a transfer answers with a
correlation id and leaves a recentTransfers entry (Pending until `settle`), the agent leg is
replaced, and any method can be made to fail.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from bot.domain.conversation import (
    Conversation,
    GenesysUser,
    LiveInteraction,
    Media,
    Participant,
    Queue,
    QueueHealth,
    RecentTransfer,
)
from bot.domain.target import Target, TargetKind
from bot.ports.genesys import GenesysError, GenesysNotFound, Priority, QueuePage

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def uid() -> str:
    return str(uuid.uuid4())


class MemoryGenesys:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.conversations: dict[str, Conversation] = {}
        self.queues: dict[str, Queue] = {}
        self.users: dict[str, GenesysUser] = {}
        self.live: dict[str, list[LiveInteraction]] = {}
        self.health: dict[str, QueueHealth] = {}
        self.transfers: list[tuple[str, str, Target]] = []
        self.calls: list[str] = []  # method names, in order
        self.read_priorities: list[Priority] = []  # get_conversation's priority, in order
        self._failures: dict[str, list[GenesysError]] = {}
        self.settle_on_transfer: str | None = None  # e.g. "Complete": entries settle at once
        self.before_transfer = None  # callable run inside transfer(), for crash/race tests
        self.now = lambda: datetime.now(UTC)  # tests point this at their fake clock

    # ---- building the org -------------------------------------------------------------------
    def add_queue(self, name: str, division: str = "Home") -> Queue:
        queue = Queue(uid(), name, uid(), division)
        self.queues[queue.id] = queue
        return queue

    def add_user(self, name: str, email: str, **kw) -> GenesysUser:
        user = GenesysUser(uid(), name, email, **kw)
        self.users[user.id] = user
        return user

    def add_call(self, *, agent: GenesysUser | None = None, queue: Queue | None = None, media: Media = Media.CALL,
                 agent_state: str = "connected", extra: Sequence[Participant] = ()) -> Conversation:
        agent = agent or self.add_user("Alice Agent", f"alice{len(self.users)}@example.com")
        legs = [
            Participant(uid(), "customer", "connected", name="Customer", start_time=T0, connected_time=T0),
            Participant(uid(), "acd", "disconnected", queue_id=queue.id if queue else None, end_time=T0),
            Participant(uid(), "agent", agent_state, name=agent.name, user_id=agent.id,
                        queue_id=queue.id if queue else None, connected_time=T0),
            *extra,
        ]
        conversation = Conversation(uid(), media, tuple(legs))
        self.conversations[conversation.id] = conversation
        self.live.setdefault(agent.id, []).append(
            LiveInteraction(conversation.id, media, queue.id if queue else None, T0))
        return conversation

    def agent_leg(self, conversation_id: str) -> Participant:
        return next(p for p in self.conversations[conversation_id].participants if p.purpose == "agent" and p.is_live)

    def end(self, conversation_id: str) -> None:
        with self.lock:
            c = self.conversations[conversation_id]
            legs = tuple(replace(p, state="terminated", end_time=T0) for p in c.participants)
            self.conversations[conversation_id] = replace(c, participants=legs)

    def change_agent(self, conversation_id: str, name: str = "Bob Agent") -> None:
        with self.lock:
            c = self.conversations[conversation_id]
            legs = [replace(p, state="disconnected", end_time=T0) if p.purpose == "agent" else p
                    for p in c.participants]
            legs.append(Participant(uid(), "agent", "connected", name=name, user_id=uid()))
            self.conversations[conversation_id] = replace(c, participants=tuple(legs))

    def settle(self, conversation_id: str, state: str = "Complete") -> None:
        """Genesys finishes (or fails) the latest transfer: its entry changes state; on success the legs move."""
        with self.lock:
            c = self.conversations[conversation_id]
            entries = list(c.recent_transfers)
            entries[-1] = replace(entries[-1], state=state)
            c = replace(c, recent_transfers=tuple(entries))
            if state == "Complete":
                _cid, pid, target = next(t for t in reversed(self.transfers) if t[0] == conversation_id)
                c = _moved(c, pid, target)
            self.conversations[conversation_id] = c

    def fail(self, method: str, error: GenesysError, times: int = 1) -> None:
        self._failures.setdefault(method, []).extend([error] * times)

    def _maybe_fail(self, method: str) -> None:
        with self.lock:
            self.calls.append(method)
            queue = self._failures.get(method)
            if queue:
                raise queue.pop(0)

    # ---- GenesysPort ------------------------------------------------------------------------
    def get_conversation(self, conversation_id: str, *, priority: Priority = Priority.CRITICAL) -> Conversation:
        self._maybe_fail("get_conversation")
        with self.lock:
            self.read_priorities.append(priority)
            if conversation_id not in self.conversations:
                raise GenesysNotFound("not found", status=404, operation="get_call")
            return self.conversations[conversation_id]

    def list_queues(self, *, name: str | None = None, page: int = 1, page_size: int = 100) -> QueuePage:
        self._maybe_fail("list_queues")
        queues = sorted(self.queues.values(), key=lambda q: q.name)
        if name:
            if name.endswith("*"):
                queues = [q for q in queues if q.name.casefold().startswith(name[:-1].casefold())]
            else:
                queues = [q for q in queues if q.name.casefold() == name.casefold()]
        start = (page - 1) * page_size
        count = max(1, -(-len(queues) // page_size))
        return QueuePage(queues[start:start + page_size], count)

    def get_queue(self, queue_id: str) -> Queue:
        self._maybe_fail("get_queue")
        if queue_id not in self.queues:
            raise GenesysNotFound("no queue", status=404, operation="get_queue")
        return self.queues[queue_id]

    def transfer(self, conversation_id: str, participant_id: str, target: Target) -> str | None:
        if self.before_transfer is not None:
            self.before_transfer()
        self._maybe_fail("transfer")
        with self.lock:
            self.transfers.append((conversation_id, participant_id, target))
            c = self.conversations[conversation_id]
            entry = RecentTransfer(
                id=uid(), state=self.settle_on_transfer or "Pending",
                destination_user_id=target.id if target.kind is TargetKind.AGENT else None,
                destination_address=None if target.kind is TargetKind.AGENT else target.id,
                date_issued=self.now(),
            )
            c = replace(c, recent_transfers=(*c.recent_transfers, entry))
            if self.settle_on_transfer == "Complete":
                c = _moved(c, participant_id, target)
            # While Pending the agent's leg still looks connected, as in real Genesys.
            self.conversations[conversation_id] = c
            return f"corr-{len(self.transfers)}"

    def find_user_by_email(self, email: str) -> GenesysUser | None:
        self._maybe_fail("find_user_by_email")
        return next((u for u in self.users.values() if (u.email or "").casefold() == email.casefold()), None)

    def get_user(self, user_id: str) -> GenesysUser:
        self._maybe_fail("get_user")
        if user_id not in self.users:
            raise GenesysNotFound("no user", status=404, operation="get_user")
        return self.users[user_id]

    def live_interactions(self, user_id: str) -> list[LiveInteraction]:
        self._maybe_fail("live_interactions")
        return list(self.live.get(user_id, []))

    def queue_health(self, queue_ids: Sequence[str], *, priority: Priority = Priority.BACKGROUND):
        self._maybe_fail("queue_health")
        return {q: self.health[q] for q in queue_ids if q in self.health}

    def estimated_wait(self, queue_id: str, media: Media | None = None, *, priority: Priority = Priority.BACKGROUND):
        self._maybe_fail("estimated_wait")
        health = self.health.get(queue_id)
        return health.estimated_wait_seconds if health else None

    def check_access(self) -> None:
        self._maybe_fail("check_access")


def _moved(c: Conversation, replaced: str, target: Target) -> Conversation:
    legs = [replace(p, state="disconnected", end_time=T0) if p.id == replaced else p for p in c.participants]
    if target.kind is TargetKind.QUEUE:
        legs.append(Participant(uid(), "acd", "connected", queue_id=target.id))
    elif target.kind is TargetKind.AGENT:
        legs.append(Participant(uid(), "agent", "connected", user_id=target.id))
    else:
        legs.append(Participant(uid(), "external", "connected", address=target.id))
    return replace(c, participants=tuple(legs))
