"""In-memory Genesys Cloud org: queues, divisions, users and conversations, plus their transitions.

Everything here is guarded by one re-entrant lock (``World.lock``); the HTTP handler and the test
helpers both go through the public methods, which take it. Times are stored as epoch seconds and
rendered as ISO-8601 UTC with milliseconds (``2026-11-25T10:02:03.123Z``) only when JSON is built.

Transfers are modelled as commands with a due time (``issued + transfer_delay``). Their effect on
the participants (agent leg terminated with disconnectType ``transfer``, new ``acd`` leg on the
target queue) is applied lazily by ``_settle()`` the first time the world is looked at after the due
time, so a GET issued before it sees ``recentTransfers[].state == "Pending"`` and the old agent
still connected, exactly like an asynchronous 202 on the real platform.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

SCENARIOS = ("connected", "ivr", "queued", "alerting", "ended", "conference", "message")
TRANSFER_OUTCOMES = ("complete", "pending", "failed")
MAX_RECENT_TRANSFERS = 20

API = "/api/v2"


def new_id() -> str:
    return str(uuid.uuid4())


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> "2026-11-25T10:02:03.123Z" (None stays None)."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _ref(entity_id: str | None, uri: str) -> dict[str, str] | None:
    if entity_id is None:
        return None
    return {"id": entity_id, "selfUri": f"{uri}/{entity_id}"}


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


class SimError(Exception):
    """A Genesys-style error to be rendered as an ErrorBody by the server."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SimQueue:
    id: str
    name: str
    division_id: str
    division_name: str
    member_count: int = 0
    joined_member_count: int = 0
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _drop_none(
            {
                "id": self.id,
                "name": self.name,
                "description": self.description,
                "division": {
                    "id": self.division_id,
                    "name": self.division_name,
                    "selfUri": f"{API}/authorization/divisions/{self.division_id}",
                },
                "memberCount": self.member_count,
                "userMemberCount": self.member_count,
                "joinedMemberCount": self.joined_member_count,
                "selfUri": f"{API}/routing/queues/{self.id}",
            }
        )


@dataclass
class SimCall:
    """Handle returned by ``GenesysSimulator.add_call``.

    ``agent_participant_id`` is the connected agent leg (for "alerting" the alerting leg, for
    "ended" the last agent leg, for "conference" the first of the two agents, None when the
    scenario has no agent). ``agent_participant_ids`` lists every agent leg id of interest
    (both conference agents). ``acd_participant_id`` is the live/last acd leg, if any.
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


class SimTransfer(NamedTuple):
    """A replace/queue that Genesys executed (tuple: conversation_id, participant_id, queue_id, at)."""

    conversation_id: str
    participant_id: str
    queue_id: str
    at: float  # time.monotonic()


@dataclass
class _Leg:
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

    @property
    def live(self) -> bool:
        return self.state == "connected" and self.end is None

    def terminate(self, at: float, disconnect_type: str) -> None:
        if self.end is None:
            self.end = at
        self.state = "terminated"
        if self.disconnect_type is None:
            self.disconnect_type = disconnect_type


@dataclass
class _Transfer:
    id: str
    participant_id: str
    queue_id: str
    issued: float
    due: float
    outcome: str  # complete | pending | failed
    transfer_type: str = "Unattended"
    applied: bool = False

    def state(self, now: float) -> str:
        if self.outcome == "pending" or now < self.due:
            return "Pending"
        return "Complete" if self.outcome == "complete" else "Failed"


@dataclass
class _Conversation:
    id: str
    media: str  # "call" | "message"
    start: float
    legs: list[_Leg] = field(default_factory=list)
    transfers: list[_Transfer] = field(default_factory=list)
    outcome: str = "complete"
    outcome_times: int | None = None  # None = sticky
    division_id: str | None = None

    def leg(self, pid: str) -> _Leg | None:
        for leg in self.legs:
            if leg.id == pid:
                return leg
        return None


class World:
    """The simulated org. All public methods are thread-safe."""

    def __init__(self, transfer_delay: float = 0.0) -> None:
        self.lock = threading.RLock()
        self.transfer_delay = transfer_delay
        self.divisions: dict[str, str] = {}  # name -> id
        self.queues: dict[str, SimQueue] = {}
        self.users: dict[str, str] = {}  # name -> id
        self.conversations: dict[str, _Conversation] = {}
        self.transfers: list[SimTransfer] = []

    # ------------------------------------------------------------------ setup
    def division_id(self, name: str) -> str:
        with self.lock:
            if name not in self.divisions:
                self.divisions[name] = new_id()
            return self.divisions[name]

    def user_id(self, name: str) -> str:
        with self.lock:
            if name not in self.users:
                self.users[name] = new_id()
            return self.users[name]

    def add_queue(
        self,
        name: str,
        division: str = "Home",
        *,
        queue_id: str | None = None,
        member_count: int = 5,
        joined_member_count: int = 3,
        description: str | None = None,
    ) -> SimQueue:
        with self.lock:
            q = SimQueue(
                id=queue_id or new_id(),
                name=name,
                division_id=self.division_id(division),
                division_name=division,
                member_count=member_count,
                joined_member_count=joined_member_count,
                description=description,
            )
            self.queues[q.id] = q
            return q

    def _default_queue(self) -> SimQueue:
        for q in self.queues.values():
            if q.name == "Sim_Default":
                return q
        return self.add_queue("Sim_Default")

    def add_call(
        self,
        scenario: str = "connected",
        queue: SimQueue | str | None = None,
        agent_name: str = "Alice Agent",
        stale_agent_duplicates: int = 0,
        *,
        conversation_id: str | None = None,
        second_agent_name: str = "Carol Agent",
        customer_name: str = "Pat Customer",
        ani: str = "tel:+15551230001",
        dnis: str = "tel:+18005550100",
        started_seconds_ago: float = 180.0,
    ) -> SimCall:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
        with self.lock:
            if queue is None:
                q = self._default_queue()
            elif isinstance(queue, str):
                q = self.queues[queue]
            else:
                q = queue
                if q.id not in self.queues:
                    self.queues[q.id] = q
            cid = conversation_id or new_id()
            if cid in self.conversations:
                raise ValueError(f"conversation {cid} already exists")
            t0 = time.time() - started_seconds_ago
            conv = _Conversation(
                id=cid,
                media="message" if scenario == "message" else "call",
                start=t0,
                division_id=q.division_id,
            )
            handle = self._build(
                conv, scenario, q, agent_name, stale_agent_duplicates, second_agent_name,
                customer_name, ani, dnis, t0,
            )  # fmt: skip
            self.conversations[cid] = conv
            return handle

    def _build(
        self,
        conv: _Conversation,
        scenario: str,
        q: SimQueue,
        agent_name: str,
        stale: int,
        second_agent_name: str,
        customer_name: str,
        ani: str,
        dnis: str,
        t0: float,
    ) -> SimCall:
        is_msg = conv.media == "message"
        customer = _Leg(
            id=new_id(),
            purpose="customer",
            state="connected",
            start=t0,
            connected=t0,
            name=customer_name,
            address=ani if not is_msg else "+15551230001",
            ani=None if is_msg else ani,
            dnis=None if is_msg else dnis,
            queue_id=q.id,
        )
        conv.legs.append(customer)
        handle = SimCall(id=conv.id, scenario=scenario, customer_participant_id=customer.id,
                         queue_id=q.id)  # fmt: skip
        ivr = _Leg(
            id=new_id(),
            purpose="ivr",
            state="connected",
            start=t0 + 0.2,
            connected=t0 + 0.2,
            name="Main IVR Flow",
            address=dnis if not is_msg else None,
        )
        if scenario == "ivr":
            conv.legs.append(ivr)
            handle.ivr_participant_id = ivr.id
            return handle
        ivr.terminate(t0 + 20, "transfer")
        if not is_msg:
            conv.legs.append(ivr)
            handle.ivr_participant_id = ivr.id
        acd = _Leg(
            id=new_id(),
            purpose="acd",
            state="connected",
            start=t0 + 20,
            connected=t0 + 20,
            name=q.name,
            address=f"sip:{q.id}@127.0.0.1;language=en-US;user=acd" if not is_msg else None,
            queue_id=q.id,
        )
        conv.legs.append(acd)
        handle.acd_participant_id = acd.id
        if scenario == "queued":
            return handle
        if scenario == "alerting":
            agent = self._agent_leg(agent_name, q, t0 + 45, connected=False)
            conv.legs.append(agent)
            handle.agent_participant_id = agent.id
            handle.agent_participant_ids = (agent.id,)
            handle.agent_user_id = agent.user_id
            return handle
        acd.terminate(t0 + 45, "transfer")
        stale_ids = []
        for k in range(stale):
            s = self._agent_leg(agent_name, q, t0 + 21 + k * 8, connected=False)
            s.terminate(t0 + 28 + k * 8, "transfer.noanswer")
            s.wrapup_required = False
            conv.legs.append(s)
            stale_ids.append(s.id)
        handle.stale_agent_participant_ids = tuple(stale_ids)
        agent = self._agent_leg(agent_name, q, t0 + 45, connected=True)
        conv.legs.append(agent)
        ids = [agent.id]
        if scenario == "conference":
            other = self._agent_leg(second_agent_name, q, t0 + 90, connected=True)
            conv.legs.append(other)
            ids.append(other.id)
        if scenario == "ended":
            end = t0 + 150
            customer.terminate(end, "endpoint")
            agent.terminate(end + 0.05, "peer")
        if is_msg:
            for leg in conv.legs:
                if leg.state == "terminated":
                    leg.state = "disconnected"
        handle.agent_participant_id = agent.id
        handle.agent_participant_ids = tuple(ids)
        handle.agent_user_id = agent.user_id
        return handle

    def _agent_leg(self, name: str, q: SimQueue, start: float, *, connected: bool) -> _Leg:
        uid = self.user_id(name)
        return _Leg(
            id=new_id(),
            purpose="agent",
            state="connected" if connected else "alerting",
            start=start,
            alerting=start,
            connected=start + 1.5 if connected else None,
            name=name,
            address=f"sip:{uid}@localhost",
            user_id=uid,
            queue_id=q.id,
            wrapup_required=True,
        )

    def _conv(self, cid: str) -> _Conversation:
        conv = self.conversations.get(cid)
        if conv is None:
            raise KeyError(cid)
        return conv

    def _end_state(self, conv: _Conversation) -> str:
        return "disconnected" if conv.media == "message" else "terminated"

    def end_call(self, cid: str) -> None:
        with self.lock:
            conv = self._conv(cid)
            self._settle(conv)
            now = time.time()
            for leg in conv.legs:
                if leg.end is None:
                    leg.terminate(now, "endpoint" if leg.purpose == "customer" else "peer")
                    leg.state = self._end_state(conv)

    def change_agent(self, cid: str, agent_name: str = "Bob Agent", participant_id: str | None = None) -> str:
        """End the live agent leg (or, with no agent, the live acd leg) and connect a new agent.

        Returns the new agent participant id.
        """
        with self.lock:
            conv = self._conv(cid)
            self._settle(conv)
            now = time.time()
            old: _Leg | None = None
            if participant_id is not None:
                old = conv.leg(participant_id)
            else:
                live = [g for g in conv.legs if g.live and g.purpose in ("agent", "user")]
                live = live or [g for g in conv.legs if g.live and g.purpose == "acd"]
                old = live[0] if live else None
            queue_id = (old.queue_id if old else None) or self._default_queue().id
            if old is not None:
                old.terminate(now, "transfer")
                old.state = self._end_state(conv)
            new = self._agent_leg(agent_name, self.queues[queue_id], now - 1.5, connected=True)
            conv.legs.append(new)
            return new.id

    def set_transfer_outcome(self, cid: str, outcome: str, times: int | None = None) -> None:
        if outcome not in TRANSFER_OUTCOMES:
            raise ValueError(f"outcome must be one of {TRANSFER_OUTCOMES}")
        with self.lock:
            conv = self._conv(cid)
            conv.outcome = outcome
            conv.outcome_times = times

    # ------------------------------------------------------------------ transfers
    def _settle(self, conv: _Conversation) -> None:
        """Apply the effect of every transfer command whose due time has passed."""
        now = time.time()
        for t in conv.transfers:
            if t.applied or t.outcome != "complete" or now < t.due:
                continue
            t.applied = True
            leg = conv.leg(t.participant_id)
            if leg is None:
                continue
            leg.terminate(t.due, "transfer")
            leg.state = self._end_state(conv)
            q = self.queues.get(t.queue_id)
            conv.legs.append(
                _Leg(
                    id=new_id(),
                    purpose="acd",
                    state="connected",
                    start=t.due,
                    connected=t.due,
                    name=q.name if q else None,
                    address=None if conv.media == "message" else f"sip:{t.queue_id}@127.0.0.1;language=en-US;user=acd",
                    queue_id=t.queue_id,
                )
            )

    def replace_with_queue(self, cid: str, pid: str, body: Any) -> None:
        """POST /conversations/{cid}/participants/{pid}/replace/queue; raises SimError."""
        with self.lock:
            conv = self.conversations.get(cid)
            if conv is None:
                raise SimError(404, "not.found", f"Conversation {cid} not found")
            self._settle(conv)
            if not isinstance(body, dict):
                raise SimError(400, "bad.request", "The request body is missing or not an object")
            transfer_type = body.get("transferType", "Unattended")
            if transfer_type not in ("Attended", "Unattended"):
                raise SimError(400, "invalid.value", f"Value [{transfer_type}] is not valid for transferType")
            queue = self._resolve_queue(body)
            leg = conv.leg(pid)
            if leg is None:
                raise SimError(400, "bad.request", f"Participant {pid} is not part of the conversation")
            if not leg.live:
                raise SimError(400, "bad.request", f"participant is not connected (state {leg.state})")
            if leg.purpose in ("customer", "external"):
                raise SimError(400, "bad.request", "The customer participant cannot be replaced")
            now = time.time()
            if any(t.participant_id == pid and t.state(now) == "Pending" for t in conv.transfers):
                raise SimError(400, "bad.request", "A transfer is already in progress for participant")
            outcome = conv.outcome
            if conv.outcome_times is not None:
                conv.outcome_times -= 1
                if conv.outcome_times <= 0:
                    conv.outcome, conv.outcome_times = "complete", None
            t = _Transfer(
                id=new_id(),
                participant_id=pid,
                queue_id=queue.id,
                issued=now,
                due=now + self.transfer_delay,
                outcome=outcome,
                transfer_type=transfer_type,
            )
            conv.transfers.append(t)
            del conv.transfers[:-MAX_RECENT_TRANSFERS]
            if outcome == "complete":
                self.transfers.append(SimTransfer(cid, pid, queue.id, time.monotonic()))
            self._settle(conv)

    def _resolve_queue(self, body: dict[str, Any]) -> SimQueue:
        qid, qname = body.get("queueId"), body.get("queueName")
        if qid:
            q = self.queues.get(str(qid))
            if q is None:
                raise SimError(400, "invalid.value", f"Queue {qid} does not exist")
            return q
        if qname:
            matches = [q for q in self.queues.values() if q.name == qname]
            if len(matches) != 1:
                why = "does not exist" if not matches else "is ambiguous"
                raise SimError(400, "invalid.value", f"Queue name {qname} {why}")
            return matches[0]
        raise SimError(400, "invalid.value", "Either queueId or queueName is required")

    # ------------------------------------------------------------------ rendering
    def call_json(self, cid: str) -> dict[str, Any]:
        """CallConversation JSON; raises SimError 404 for unknown or non-voice conversations."""
        with self.lock:
            conv = self.conversations.get(cid)
            if conv is None or conv.media != "call":
                raise SimError(404, "not.found", f"Conversation {cid} not found")
            self._settle(conv)
            now = time.time()
            return {
                "id": conv.id,
                "participants": [self._call_participant(leg) for leg in conv.legs],
                "otherMediaUris": [],
                "recentTransfers": [self._transfer_json(t, now) for t in conv.transfers],
                "recordingState": "none",
                "divisions": self._divisions_json(conv),
                "selfUri": f"{API}/conversations/calls/{conv.id}",
            }

    def conversation_json(self, cid: str) -> dict[str, Any]:
        """Generic Conversation JSON (participants carry `calls` or `messages` arrays)."""
        with self.lock:
            conv = self.conversations.get(cid)
            if conv is None:
                raise SimError(404, "not.found", f"Conversation {cid} not found")
            self._settle(conv)
            now = time.time()
            ends = [g.end for g in conv.legs]
            ended = all(e is not None for e in ends)
            return _drop_none(
                {
                    "id": conv.id,
                    "startTime": iso(conv.start),
                    "endTime": iso(max(e for e in ends if e is not None)) if ended else None,
                    "participants": [self._generic_participant(conv, leg) for leg in conv.legs],
                    "recordingState": "none",
                    "divisions": self._divisions_json(conv),
                    "recentTransfers": [self._transfer_json(t, now) for t in conv.transfers],
                    "selfUri": f"{API}/conversations/{conv.id}",
                }
            )

    def _divisions_json(self, conv: _Conversation) -> list[dict[str, Any]]:
        if conv.division_id is None:
            return []
        return [
            {
                "division": _ref(conv.division_id, f"{API}/authorization/divisions"),
                "entities": [],
            }
        ]

    def _call_participant(self, leg: _Leg) -> dict[str, Any]:
        return _drop_none(
            {
                "id": leg.id,
                "name": leg.name,
                "address": leg.address,
                "startTime": iso(leg.start),
                "startAlertingTime": iso(leg.alerting),
                "connectedTime": iso(leg.connected),
                "endTime": iso(leg.end),
                "purpose": leg.purpose,
                "state": leg.state,
                "direction": leg.direction,
                "disconnectType": leg.disconnect_type,
                "held": leg.held,
                "wrapupRequired": leg.wrapup_required,
                "user": _ref(leg.user_id, f"{API}/users"),
                "queue": _ref(leg.queue_id, f"{API}/routing/queues"),
                "provider": "Edge",
                "muted": False,
                "confined": False,
                "recording": False,
                "recordingState": "none",
                "ani": leg.ani,
                "dnis": leg.dnis,
            }
        )

    def _generic_participant(self, conv: _Conversation, leg: _Leg) -> dict[str, Any]:
        q = self.queues.get(leg.queue_id) if leg.queue_id else None
        media = _drop_none(
            {
                "state": leg.state,
                "id": leg.media_id,
                "direction": leg.direction,
                "held": leg.held,
                "disconnectType": leg.disconnect_type,
                "startAlertingTime": iso(leg.alerting),
                "connectedTime": iso(leg.connected),
                "disconnectedTime": iso(leg.end),
                "provider": "Edge" if conv.media == "call" else "PureCloud Messaging",
            }
        )
        if conv.media == "call":
            media["recording"] = False
            media["recordingState"] = "none"
            media["muted"] = False
            media["confined"] = False
            key = "calls"
        else:
            media["type"] = "webmessaging"
            key = "messages"
        return _drop_none(
            {
                "id": leg.id,
                "startTime": iso(leg.start),
                "endTime": iso(leg.end),
                "connectedTime": iso(leg.connected),
                "name": leg.name,
                "userId": leg.user_id,
                "userUri": f"{API}/users/{leg.user_id}" if leg.user_id else None,
                "queueId": leg.queue_id,
                "queueName": q.name if q else None,
                "purpose": leg.purpose,
                "address": leg.address,
                "ani": leg.ani,
                "dnis": leg.dnis,
                "wrapupRequired": leg.wrapup_required,
                "attributes": {},
                key: [media],
            }
        )

    def _transfer_json(self, t: _Transfer, now: float) -> dict[str, Any]:
        return {
            "id": t.id,
            "state": t.state(now),
            "dateIssued": iso(t.issued),
            "destination": {"address": t.queue_id},
            "transferType": t.transfer_type,
        }

    # ------------------------------------------------------------------ queues
    def get_queue(self, qid: str) -> dict[str, Any]:
        with self.lock:
            q = self.queues.get(qid)
            if q is None:
                raise SimError(404, "not.found", f"Queue {qid} not found")
            return q.to_json()

    def list_queues(
        self,
        *,
        name: str | None,
        division_ids: list[str],
        ids: list[str],
        sort_desc: bool,
    ) -> list[SimQueue]:
        with self.lock:
            queues = list(self.queues.values())
        if name:
            queues = [q for q in queues if name_matches(name, q.name)]
        if division_ids and "*" not in division_ids:
            queues = [q for q in queues if q.division_id in division_ids]
        if ids:
            queues = [q for q in queues if q.id in ids]
        queues.sort(key=lambda q: (q.name.lower(), q.name, q.division_name, q.id), reverse=sort_desc)
        return queues


def name_matches(pattern: str, name: str) -> bool:
    """Genesys `name` filter: case-insensitive, leading/trailing `*` are wildcards, else exact."""
    p, n = pattern.lower(), name.lower()
    lead, trail = p.startswith("*"), p.endswith("*") and len(p) > 1
    core = p.strip("*")
    if not core:
        return True
    if lead and trail:
        return core in n
    if lead:
        return n.endswith(core)
    if trail:
        return n.startswith(core)
    return n == core
