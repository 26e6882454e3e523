"""The simulator's data model: org entities, conversation legs and transfer commands.

Plain data only (no locking, no JSON): ``world`` owns and mutates these under its lock, ``render``
turns them into Genesys JSON. Times are epoch seconds (``time.time()``).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, NamedTuple

API = "/api/v2"

# Internal media names follow Genesys' per-media participant arrays: calls, messages, emails, callbacks.
MEDIA = ("call", "message", "email", "callback")
MEDIA_ALIASES = {"call": "call", "voice": "call", "chat": "message", "message": "message", "email": "email",
                 "callback": "callback"}  # fmt: skip
# The name the playground/side panel shows for each internal media.
MEDIA_LABEL = {"call": "call", "message": "chat", "email": "email", "callback": "callback"}
# Analytics' mediaType dimension values.
ANALYTICS_MEDIA = {"call": "voice", "message": "message", "email": "email", "callback": "callback"}

SCENARIOS = (
    "connected", "ivr", "queued", "alerting", "ended", "conference", "message",
    "monitored", "coached", "barged", "unknown_state",
)  # fmt: skip
DIGITAL_SCENARIOS = ("connected", "queued", "alerting", "ended", "conference", "unknown_state")
SUPERVISOR_SCENARIOS = {"monitored": "monitored", "coached": "coached", "barged": "barged"}
UNKNOWN_STATE = "quantum"  # a participant state no SDK knows: deserialises as "outdated_sdk_version"

TRANSFER_OUTCOMES = ("complete", "pending", "active", "failed", "canceled", "timeout")
TERMINAL_STATES = {"complete": "Complete", "failed": "Failed", "canceled": "Canceled", "timeout": "Timeout"}
TRANSFER_TYPES = ("Attended", "Unattended")
MAX_RECENT_TRANSFERS = 20

ROUTING_STATUSES = ("OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING")
USER_STATES = ("active", "inactive", "deleted")
AGENT_PURPOSES = ("agent", "user")


def new_id() -> str:
    return str(uuid.uuid4())


class SimError(Exception):
    """A Genesys-style error; the server renders it as an ErrorBody with this status and code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str) -> SimError:
    return SimError(400, "bad.request", message)


def invalid_value(message: str) -> SimError:
    return SimError(400, "invalid.value", message)


def not_found(message: str) -> SimError:
    return SimError(404, "not.found", message)


@dataclass(frozen=True)
class SimQueue:
    """A routing queue. ``member_count``/``joined_member_count`` are used only while no simulated
    user is a member; otherwise they are computed from the users (see ``World.queue_counts``)."""

    id: str
    name: str
    division_id: str
    division_name: str
    member_count: int = 0
    joined_member_count: int = 0
    description: str | None = None
    aht_seconds: int = 300  # average handle time, feeds the estimated-wait formula

    def to_json(self) -> dict[str, Any]:
        """The Queue JSON with the stored counts (kept for callers of the old API)."""
        from bot.simulator.render import queue_json

        return queue_json(self, self.member_count, self.joined_member_count)


@dataclass
class SimUser:
    """A user of the org. ``routing_status`` is the configured one: while it is IDLE and the user
    holds a connected interaction, the wire shows INTERACTING (see ``World.effective_status``)."""

    id: str
    name: str
    email: str
    division_id: str
    state: str = "active"
    station: bool = True
    routing_status: str = "IDLE"
    status_since: float = field(default_factory=time.time)
    queue_ids: set[str] = field(default_factory=set)
    station_id: str = field(default_factory=new_id)


@dataclass
class SimCall:
    """Handle returned by ``add_call``/``add_conversation``.

    ``agent_participant_id`` is the connected agent leg (for "alerting" the alerting leg, for
    "ended" the last agent leg, for "conference" the first of the two agents, None when the
    scenario has no agent). ``agent_participant_ids`` lists every agent leg id of interest
    (both conference agents). ``acd_participant_id`` is the live/last acd leg, if any.
    ``supervisor_participant_id`` is the monitoring/coaching/barging leg of those scenarios.
    """

    id: str
    scenario: str
    customer_participant_id: str
    agent_participant_id: str | None = None
    agent_participant_ids: tuple[str, ...] = ()
    acd_participant_id: str | None = None
    ivr_participant_id: str | None = None
    stale_agent_participant_ids: tuple[str, ...] = ()
    agent_user_id: str | None = None
    queue_id: str | None = None
    media: str = "call"
    supervisor_participant_id: str | None = None
    supervisor_user_id: str | None = None


class SimTransfer(NamedTuple):
    """A transfer command Genesys accepted and will complete (first four fields as before)."""

    conversation_id: str
    participant_id: str
    queue_id: str | None
    at: float  # time.monotonic()
    kind: str = "queue"  # queue | agent | address
    user_id: str | None = None
    address: str | None = None


@dataclass
class LiveConversation:
    """One row of the side panel: a conversation that has not ended."""

    id: str
    media: str  # call | chat | email | callback
    state: str  # ivr | waiting | alerting | connected | other
    agent_name: str | None
    agent_user_id: str | None
    agent_participant_id: str | None
    queue_id: str | None
    queue_name: str | None
    supervisor_name: str | None = None
    transfer_state: str | None = None  # state of the newest recentTransfers entry


@dataclass
class QueueStats:
    """Queue health as the side panel shows it (the same numbers the analytics endpoints serve)."""

    queue_id: str
    name: str
    division_name: str
    members: int
    on_queue: int
    available: int  # on-queue users whose routing status is IDLE
    interacting: int
    waiting: int
    estimated_wait_seconds: int


@dataclass
class Leg:
    """One participant of a conversation (a "leg")."""

    id: str
    purpose: str
    state: str
    start: float
    name: str | None = None
    address: str | None = None
    connected: float | None = None
    alerting: float | None = None
    end: float | None = None
    direction: str = "inbound"
    disconnect_type: str | None = None
    user_id: str | None = None
    queue_id: str | None = None
    ani: str | None = None
    dnis: str | None = None
    wrapup_required: bool | None = None
    held: bool = False
    media_id: str = field(default_factory=new_id)
    monitored_id: str | None = None
    coached_id: str | None = None
    barged_id: str | None = None
    barged_time: float | None = None

    @property
    def live(self) -> bool:
        return self.state == "connected" and self.end is None

    @property
    def supervising(self) -> bool:
        """A monitoring/coaching/barge-in leg: not a second holder of the interaction."""
        return bool(self.monitored_id or self.coached_id or self.barged_id)

    def terminate(self, at: float, disconnect_type: str, end_state: str = "terminated") -> None:
        if self.end is None:
            self.end = at
        self.state = end_state
        if self.disconnect_type is None:
            self.disconnect_type = disconnect_type


@dataclass
class TransferPlan:
    """How the next transfer command(s) of a conversation will turn out.

    ``delay`` None means the world's ``transfer_delay``. The entry is Pending until
    ``active_after`` seconds (if set), then Active, and reaches its final state after ``delay``.
    ``times`` None: sticky; otherwise the plan applies to that many commands only.
    """

    outcome: str = "complete"
    delay: float | None = None
    active_after: float | None = None
    times: int | None = None


@dataclass
class Transfer:
    """A transfer command (one ``recentTransfers`` entry)."""

    id: str
    participant_id: str
    kind: str  # queue | agent | address
    issued: float
    due: float
    outcome: str
    transfer_type: str = "Unattended"
    queue_id: str | None = None
    user_id: str | None = None
    address: str | None = None
    voicemail: bool = False
    initiator_user_id: str | None = None  # the user of the replaced leg
    issued_by: str | None = None  # the OAuth client that sent the command
    active_at: float | None = None
    applied: bool = False
    answer_at: float | None = None  # when the new leg may be answered (auto-answer, agent pick-up)
    answered: bool = False
    new_leg_id: str | None = None  # the leg the completed transfer created

    def state(self, now: float) -> str:
        """Pending (Active from ``active_at``) until ``due``, then the outcome's final state.

        Outcome "pending" never leaves Pending/Active; "active" turns Active at ``due`` for good.
        """
        if now >= self.due and self.outcome in TERMINAL_STATES:
            return TERMINAL_STATES[self.outcome]
        if self.outcome == "active" and now >= self.due:
            return "Active"
        if self.active_at is not None and now >= self.active_at:
            return "Active"
        return "Pending"

    def in_progress(self, now: float) -> bool:
        return self.state(now) in ("Pending", "Active")

    @property
    def destination_address(self) -> str | None:
        """The address as given, else for a queue transfer the queue id (undocumented in reality:
        the bot must not rely on it alone)."""
        if self.address:
            return self.address
        return self.queue_id if self.kind == "queue" else None

    def has_work(self) -> bool:
        """Whether settling may still change the conversation because of this command."""
        if not self.applied:
            return self.outcome == "complete"
        return self.answer_at is not None and not self.answered


@dataclass
class Conversation:
    id: str
    media: str  # call | message | email | callback
    start: float
    legs: list[Leg] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    plan: TransferPlan | None = None  # None: the world's default plan
    division_id: str | None = None
    subject: str | None = None  # email subject

    def leg(self, pid: str) -> Leg | None:
        for leg in self.legs:
            if leg.id == pid:
                return leg
        return None

    @property
    def end_state(self) -> str:
        """Calls end as "terminated"; digital media as "disconnected" (their enums lack terminated)."""
        return "terminated" if self.media == "call" else "disconnected"

    @property
    def ended(self) -> bool:
        return all(leg.end is not None for leg in self.legs)

    def holders(self) -> list[Leg]:
        """Connected agent/user legs that hold the interaction (supervisor legs excluded)."""
        return [g for g in self.legs if g.live and g.purpose in AGENT_PURPOSES and not g.supervising]
