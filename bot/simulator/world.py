"""The simulated org's state machine: divisions, queues, users, conversations and transfers.

Everything is guarded by one re-entrant lock (``World.lock``); the HTTP endpoints and the
simulator's controls both go through the public methods, which take it. JSON rendering lives in
``render``; this module only holds and changes state.

Transfers are commands with a due time (``issued + delay``). Their effect (replaced leg terminated
with disconnectType ``transfer``, a new leg for the destination) is applied lazily by ``settle()``
the first time the world is looked at after the due time, so a GET issued before it sees
``recentTransfers[].state == "Pending"`` and the old agent still connected, exactly like an
asynchronous 202 on the real platform. Follow-ups (auto-answer by a queue member, a transferred-to
agent picking up) are applied the same way.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bot.simulator.entities import (
    AGENT_PURPOSES,
    MAX_RECENT_TRANSFERS,
    MEDIA_ALIASES,
    MEDIA_LABEL,
    ROUTING_STATUSES,
    SCENARIOS,
    SUPERVISOR_SCENARIOS,
    TRANSFER_OUTCOMES,
    USER_STATES,
    Conversation,
    Leg,
    LiveConversation,
    QueueStats,
    SimCall,
    SimError,
    SimQueue,
    SimTransfer,
    SimUser,
    Transfer,
    TransferPlan,
    bad_request,
    invalid_value,
    new_id,
    not_found,
)
from bot.simulator.scenarios import BuildSpec, acd_leg, agent_leg, build

_PHONE_RE = re.compile(r"^(tel:)?\+?[0-9][0-9 ().\-]{2,}$|^sip:\S+$", re.IGNORECASE)


@dataclass
class QueueSnapshot:
    """Who is on a queue right now and which interactions wait in it or are handled from it."""

    queue: SimQueue
    members: list[SimUser] = field(default_factory=list)  # active members
    statuses: Counter[str] = field(default_factory=Counter)  # effective routing status -> members
    waiting: list[tuple[Conversation, Leg]] = field(default_factory=list)  # live acd legs, nobody on it
    interacting: list[tuple[Conversation, Leg]] = field(default_factory=list)
    alerting: list[tuple[Conversation, Leg]] = field(default_factory=list)

    @property
    def on_queue(self) -> int:
        return sum(n for s, n in self.statuses.items() if s != "OFF_QUEUE")

    @property
    def available(self) -> int:
        return self.statuses.get("IDLE", 0)


class World:
    """The simulated org. All public methods are thread-safe."""

    def __init__(self, transfer_delay: float = 0.0) -> None:
        self.lock = threading.RLock()
        self.transfer_delay = transfer_delay
        self.default_plan = TransferPlan()
        self.auto_answer: float | None = None  # seconds after a queue transfer until an IDLE member answers
        self.agent_answer: float | None = 0.0  # seconds until a transferred-to agent answers (None: never)
        self.divisions: dict[str, str] = {}  # name -> id
        self.queues: dict[str, SimQueue] = {}
        self.users: dict[str, SimUser] = {}  # id -> user
        self.conversations: dict[str, Conversation] = {}
        self.transfers: list[SimTransfer] = []
        self._unsettled: set[str] = set()

    # ------------------------------------------------------------------ org
    def division_id(self, name: str) -> str:
        with self.lock:
            if name not in self.divisions:
                self.divisions[name] = new_id()
            return self.divisions[name]

    def add_queue(
        self,
        name: str,
        division: str = "Home",
        *,
        queue_id: str | None = None,
        member_count: int = 5,
        joined_member_count: int = 3,
        description: str | None = None,
        aht_seconds: int = 300,
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
                aht_seconds=aht_seconds,
            )
            self.queues[q.id] = q
            return q

    def resolve_queue(self, queue: SimQueue | str | None) -> SimQueue:
        """A queue from a handle, an id or a unique name; None gives the default queue."""
        with self.lock:
            if queue is None:
                return self._default_queue()
            if isinstance(queue, SimQueue):
                self.queues.setdefault(queue.id, queue)
                return queue
            if queue in self.queues:
                return self.queues[queue]
            named = [q for q in self.queues.values() if q.name == queue]
            if len(named) != 1:
                raise ValueError(f"queue {queue!r} is {'ambiguous' if named else 'unknown'}")
            return named[0]

    def _default_queue(self) -> SimQueue:
        for q in self.queues.values():
            if q.name == "Sim_Default":
                return q
        return self.add_queue("Sim_Default")

    def add_user(
        self,
        name: str,
        email: str,
        *,
        state: str = "active",
        station: bool = True,
        routing_status: str = "IDLE",
        queues: Iterable[SimQueue | str] = (),
        user_id: str | None = None,
        division: str = "Home",
    ) -> SimUser:
        """A user; ValueError for an unknown state/status or an email already taken."""
        _check_choice("state", state, USER_STATES)
        _check_choice("routing_status", routing_status, ROUTING_STATUSES)
        if "@" not in email:
            raise ValueError(f"not an email address: {email!r}")
        with self.lock:
            if any(u.email.lower() == email.lower() for u in self.users.values()):
                raise ValueError(f"a user with email {email!r} already exists")
            user = SimUser(
                id=user_id or new_id(),
                name=name,
                email=email,
                division_id=self.division_id(division),
                state=state,
                station=station,
                routing_status=routing_status,
                queue_ids={self.resolve_queue(q).id for q in queues},
            )
            self.users[user.id] = user
            return user

    def update_user(
        self,
        user: SimUser | str,
        *,
        state: str | None = None,
        station: bool | None = None,
        routing_status: str | None = None,
        queues: Iterable[SimQueue | str] | None = None,
    ) -> SimUser:
        """Change a user's state, station, configured routing status or queue memberships."""
        with self.lock:
            u = self.resolve_user(user)
            if state is not None:
                _check_choice("state", state, USER_STATES)
                u.state = state
            if routing_status is not None:
                _check_choice("routing_status", routing_status, ROUTING_STATUSES)
                if routing_status != u.routing_status:
                    u.routing_status, u.status_since = routing_status, time.time()
            if station is not None:
                u.station = station
            if queues is not None:
                u.queue_ids = {self.resolve_queue(q).id for q in queues}
            return u

    def resolve_user(self, user: SimUser | str) -> SimUser:
        """A user from a handle, an id or a name; an unknown name creates that user."""
        with self.lock:
            if isinstance(user, SimUser):
                return self.users.setdefault(user.id, user)
            if user in self.users:
                return self.users[user]
            for u in self.users.values():
                if u.name == user:
                    return u
            return self.add_user(user, self._free_email(user))

    def user_id(self, name: str) -> str:
        """Id of the user with that name (created on first use, as agents of ``add_call`` are)."""
        return self.resolve_user(name).id

    def _free_email(self, name: str) -> str:
        local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "user"
        taken = {u.email.lower() for u in self.users.values()}
        email, n = f"{local}@sim.example", 1
        while email in taken:
            n += 1
            email = f"{local}{n}@sim.example"
        return email

    def get_user(self, uid: str, *, include_deleted: bool = False) -> SimUser:
        with self.lock:
            u = self.users.get(uid)
            if u is None or (u.state == "deleted" and not include_deleted):
                raise not_found(f"User {uid} not found")
            return u

    def effective_status(self, user: SimUser, busy: set[str] | None = None) -> str:
        """The routing status on the wire: IDLE turns INTERACTING while the user holds an interaction."""
        with self.lock:
            if busy is None:
                busy = self._busy_users()
            if user.routing_status == "IDLE" and user.id in busy:
                return "INTERACTING"
            return user.routing_status

    def _busy_users(self) -> set[str]:
        return {g.user_id for c in self.conversations.values() for g in c.holders() if g.user_id}

    # ------------------------------------------------------------------ conversations
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
        supervisor: SimUser | str | None = None,
    ) -> SimCall:
        """A voice call in ``scenario`` ("message" is the legacy way to add a connected chat)."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
        media, effective = ("message", "connected") if scenario == "message" else ("call", scenario)
        handle = self.add_conversation(
            media, effective, agent=agent_name, queue=queue, conversation_id=conversation_id,
            stale_agent_duplicates=stale_agent_duplicates, second_agent=second_agent_name,
            supervisor=supervisor, customer_name=customer_name, ani=ani, dnis=dnis,
            started_seconds_ago=started_seconds_ago,
        )  # fmt: skip
        handle.scenario = scenario
        return handle

    def add_conversation(
        self,
        media: str = "call",
        scenario: str = "connected",
        *,
        agent: SimUser | str | None = None,
        queue: SimQueue | str | None = None,
        conversation_id: str | None = None,
        stale_agent_duplicates: int = 0,
        second_agent: SimUser | str | None = None,
        supervisor: SimUser | str | None = None,
        customer_name: str = "Pat Customer",
        ani: str = "tel:+15551230001",
        dnis: str = "tel:+18005550100",
        subject: str | None = None,
        started_seconds_ago: float = 180.0,
    ) -> SimCall:
        """A conversation of any media; ValueError for an unknown media/scenario or a taken id."""
        if media not in MEDIA_ALIASES:
            raise ValueError(f"unknown media {media!r}; expected one of {tuple(MEDIA_ALIASES)}")
        if scenario not in SCENARIOS or scenario == "message":
            raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
        with self.lock:
            cid = conversation_id or new_id()
            if cid in self.conversations:
                raise ValueError(f"conversation {cid} already exists")
            spec = BuildSpec(
                conversation_id=cid,
                media=MEDIA_ALIASES[media],
                scenario=scenario,
                queue=self.resolve_queue(queue),
                agent=self.resolve_user(agent or "Alice Agent"),
                second_agent=self._optional_user(scenario == "conference", second_agent, "Carol Agent"),
                supervisor=self._optional_user(scenario in SUPERVISOR_SCENARIOS, supervisor, "Sam Supervisor"),
                t0=time.time() - started_seconds_ago,
                stale=stale_agent_duplicates,
                customer_name=customer_name,
                ani=ani,
                dnis=dnis,
                subject=subject,
            )  # fmt: skip
            conv, handle = build(spec)
            self.conversations[cid] = conv
            return handle

    def _optional_user(self, needed: bool, user: SimUser | str | None, default: str) -> SimUser | None:
        return self.resolve_user(user or default) if needed else None

    def conversation(self, cid: str) -> Conversation:
        """The settled conversation; SimError 404 when unknown. Hold ``lock`` while using it."""
        with self.lock:
            self.settle()
            conv = self.conversations.get(cid)
            if conv is None:
                raise not_found(f"Conversation {cid} not found")
            return conv

    def _conv(self, cid: str) -> Conversation:
        conv = self.conversations.get(cid)
        if conv is None:
            raise KeyError(cid)
        self.settle()
        return conv

    def end_call(self, cid: str) -> None:
        """Hang up: every leg still up ends now (KeyError for an unknown id)."""
        with self.lock:
            conv = self._conv(cid)
            now = time.time()
            for leg in conv.legs:
                if leg.end is None:
                    leg.terminate(now, "endpoint" if leg.purpose == "customer" else "peer", conv.end_state)

    def change_agent(self, cid: str, agent_name: str = "Bob Agent", participant_id: str | None = None) -> str:
        """End the live agent leg (or, with no agent, the live acd leg) and connect a new agent.

        Returns the new agent participant id.
        """
        with self.lock:
            conv = self._conv(cid)
            now = time.time()
            old: Leg | None = None
            if participant_id is not None:
                old = conv.leg(participant_id)
            else:
                live = conv.holders() or [g for g in conv.legs if g.live and g.purpose == "acd"]
                old = live[0] if live else None
            queue_id = (old.queue_id if old else None) or self._default_queue().id
            if old is not None:
                old.terminate(now, "transfer", conv.end_state)
            new = agent_leg(conv.media, self.resolve_user(agent_name), queue_id, now - 1.5, connected=True)
            conv.legs.append(new)
            return new.id

    def set_participant_state(self, cid: str, pid: str, state: str) -> None:
        """Force a leg's state to any string (e.g. one the SDK does not know)."""
        with self.lock:
            leg = self._conv(cid).leg(pid)
            if leg is None:
                raise KeyError(pid)
            leg.state = state

    def set_transfer_outcome(
        self,
        cid: str | None,
        outcome: str,
        times: int | None = None,
        *,
        delay: float | None = None,
        active_after: float | None = None,
    ) -> None:
        """Plan how the next transfers of ``cid`` (None: of every conversation without a plan) end."""
        _check_choice("outcome", outcome, TRANSFER_OUTCOMES)
        plan = TransferPlan(outcome=outcome, delay=delay, active_after=active_after, times=times)
        with self.lock:
            if cid is None:
                self.default_plan = plan
            else:
                self._conv(cid).plan = plan

    def _take_plan(self, conv: Conversation) -> TransferPlan:
        plan = conv.plan or self.default_plan
        taken = replace(plan)
        if plan.times is not None:
            plan.times -= 1
            if plan.times <= 0:
                if conv.plan is plan:
                    conv.plan = None
                else:
                    self.default_plan = TransferPlan()
        return taken

    # ------------------------------------------------------------------ transfers
    def transfer_to_queue(
        self,
        cid: str,
        pid: str,
        *,
        queue_id: str | None = None,
        queue_name: str | None = None,
        transfer_type: str = "Unattended",
        issued_by: str | None = None,
    ) -> Transfer:
        """replace/queue: SimError for an unknown conversation, queue or participant.

        ``issued_by`` (every transfer method): the OAuth client id, shown as ``modifiedBy``."""
        with self.lock:
            conv = self.conversation(cid)
            queue = self._queue_for_transfer(queue_id, queue_name)
            leg = self._replaceable(conv, pid)
            return self._issue(conv, leg, "queue", transfer_type, issued_by, queue_id=queue.id)

    def transfer_to_agent(
        self,
        cid: str,
        pid: str,
        *,
        user_id: str | None = None,
        user_name: str | None = None,
        user_display_name: str | None = None,
        voicemail: bool = False,
        transfer_type: str = "Unattended",
        issued_by: str | None = None,
    ) -> Transfer:
        """replace/agent. A voice transfer to a user without a station is accepted and then fails."""
        with self.lock:
            conv = self.conversation(cid)
            user = self._user_for_transfer(user_id, user_name, user_display_name)
            leg = self._replaceable(conv, pid)
            if leg.user_id == user.id and not voicemail:
                raise bad_request(f"Participant {pid} is already connected to user {user.id}")
            fail = conv.media == "call" and not user.station and not voicemail
            return self._issue(conv, leg, "agent", transfer_type, issued_by, user_id=user.id, voicemail=voicemail,
                               force_failure=fail)  # fmt: skip

    def transfer_to_address(
        self, cid: str, pid: str, *, address: str, transfer_type: str = "Unattended", issued_by: str | None = None
    ) -> Transfer:
        """/transfer (voice only): a phone number or SIP address, else a user's or a queue's name."""
        with self.lock:
            conv = self.conversation(cid)
            if conv.media != "call":
                media = MEDIA_LABEL[conv.media]
                raise bad_request(f"Transfer to an address is only supported for voice calls, not {media}")
            if _PHONE_RE.match(address.strip()):
                leg = self._replaceable(conv, pid)
                return self._issue(conv, leg, "address", transfer_type, issued_by, address=address.strip())
            user = self._user_named(address)
            queue = None if user else self._queue_named(address)
            if user is None and queue is None:
                raise invalid_value(f"Address [{address}] could not be resolved to a number, user or queue")
            leg = self._replaceable(conv, pid)
            if user is not None:
                return self._issue(conv, leg, "agent", transfer_type, issued_by, user_id=user.id, address=address)
            assert queue is not None
            return self._issue(conv, leg, "queue", transfer_type, issued_by, queue_id=queue.id, address=address)

    def _queue_for_transfer(self, queue_id: str | None, queue_name: str | None) -> SimQueue:
        if queue_id:
            q = self.queues.get(queue_id)
            if q is None:
                raise invalid_value(f"Queue {queue_id} does not exist")
            return q
        if queue_name:
            matches = [q for q in self.queues.values() if q.name == queue_name]
            if len(matches) != 1:
                why = "does not exist" if not matches else "is ambiguous"
                raise invalid_value(f"Queue name {queue_name} {why}")
            return matches[0]
        raise invalid_value("Either queueId or queueName is required")

    def _user_for_transfer(self, user_id: str | None, user_name: str | None, display_name: str | None) -> SimUser:
        if user_id:
            user = self.users.get(user_id)
            if user is None or user.state == "deleted":
                raise invalid_value(f"User {user_id} does not exist")
        elif user_name or display_name:
            key, value = ("email", user_name) if user_name else ("name", display_name)
            found = [u for u in self.users.values()
                     if u.state != "deleted" and getattr(u, key).lower() == str(value).lower()]  # fmt: skip
            if len(found) != 1:
                raise invalid_value(f"User [{value}] {'is ambiguous' if found else 'does not exist'}")
            user = found[0]
        else:
            raise invalid_value("One of userId, userName or userDisplayName is required")
        if user.state != "active":
            raise invalid_value(f"User {user.id} is {user.state}")
        return user

    def _user_named(self, name: str) -> SimUser | None:
        found = [u for u in self.users.values() if u.state == "active" and u.name.lower() == name.strip().lower()]
        return found[0] if len(found) == 1 else None

    def _queue_named(self, name: str) -> SimQueue | None:
        found = [q for q in self.queues.values() if q.name.lower() == name.strip().lower()]
        return found[0] if len(found) == 1 else None

    def _replaceable(self, conv: Conversation, pid: str) -> Leg:
        leg = conv.leg(pid)
        if leg is None:
            raise bad_request(f"Participant {pid} is not part of the conversation")
        if not leg.live:
            raise bad_request(f"participant is not connected (state {leg.state})")
        if leg.purpose in ("customer", "external"):
            raise bad_request("The customer participant cannot be replaced")
        if leg.supervising:
            raise bad_request("A monitoring, coaching or barging participant cannot be replaced")
        now = time.time()
        if any(t.participant_id == pid and t.in_progress(now) for t in conv.transfers):
            raise bad_request("A transfer is already in progress for participant")
        return leg

    def _issue(self, conv: Conversation, leg: Leg, kind: str, transfer_type: str, issued_by: str | None, *,
               force_failure: bool = False, **destination: object) -> Transfer:  # fmt: skip
        now = time.time()
        plan = self._take_plan(conv)
        delay = self.transfer_delay if plan.delay is None else plan.delay
        outcome = "failed" if force_failure and plan.outcome == "complete" else plan.outcome
        t = Transfer(
            id=new_id(),
            participant_id=leg.id,
            kind=kind,
            issued=now,
            due=now + delay,
            outcome=outcome,
            transfer_type=transfer_type,
            initiator_user_id=leg.user_id,
            issued_by=issued_by,
            active_at=None if plan.active_after is None else now + plan.active_after,
            **destination,  # type: ignore[arg-type]
        )
        conv.transfers.append(t)
        del conv.transfers[:-MAX_RECENT_TRANSFERS]
        if outcome == "complete":
            self.transfers.append(
                SimTransfer(conv.id, leg.id, t.queue_id, time.monotonic(), kind, t.user_id, t.address)
            )
            self._unsettled.add(conv.id)
        self.settle()
        return t

    # ------------------------------------------------------------------ settling
    def settle(self) -> None:
        """Apply every transfer effect (and follow-up) whose time has come."""
        with self.lock:
            now = time.time()
            for cid in list(self._unsettled):
                conv = self.conversations.get(cid)
                if conv is None or not self._settle_conversation(conv, now):
                    self._unsettled.discard(cid)

    def _settle_conversation(self, conv: Conversation, now: float) -> bool:
        """Returns whether some command of the conversation still has work to do later."""
        for t in conv.transfers:
            if not t.applied and t.outcome == "complete" and now >= t.due:
                self._apply(conv, t)
            if t.applied and t.answer_at is not None and not t.answered and now >= t.answer_at:
                self._answer(conv, t, now)
        return any(t.has_work() for t in conv.transfers)

    def _apply(self, conv: Conversation, t: Transfer) -> None:
        t.applied = True
        leg = conv.leg(t.participant_id)
        if leg is None or leg.end is not None:
            return  # hung up meanwhile
        leg.terminate(t.due, "transfer", conv.end_state)
        new = self._destination_leg(conv, t)
        conv.legs.append(new)
        t.new_leg_id = new.id

    def _destination_leg(self, conv: Conversation, t: Transfer) -> Leg:
        if t.kind == "queue":
            assert t.queue_id is not None
            if self.auto_answer is not None:
                t.answer_at = t.due + self.auto_answer
            return acd_leg(conv.media, self.queues[t.queue_id], t.due)
        if t.kind == "agent":
            assert t.user_id is not None
            user = self.users[t.user_id]
            if t.voicemail:
                return Leg(id=new_id(), purpose="voicemail", state="connected", start=t.due, connected=t.due,
                           name=f"{user.name} Voicemail", user_id=user.id)  # fmt: skip
            if self.agent_answer is not None:
                t.answer_at = t.due + self.agent_answer
            return agent_leg(conv.media, user, None, t.due, connected=False, purpose="user")
        return Leg(id=new_id(), purpose="external", state="connected", start=t.due, connected=t.due,
                   address=t.address, direction="outbound")  # fmt: skip

    def _answer(self, conv: Conversation, t: Transfer, now: float) -> None:
        new = conv.leg(t.new_leg_id or "")
        assert t.answer_at is not None
        if new is None or new.end is not None:
            t.answered = True
            return
        if t.kind == "agent":
            new.state, new.connected, t.answered = "connected", t.answer_at, True
            return
        user = self._idle_member(t.queue_id or "", conv.media)
        if user is None:
            t.answer_at = now  # nobody free yet: the next look retries
            return
        new.terminate(t.answer_at, "transfer", conv.end_state)
        conv.legs.append(agent_leg(conv.media, user, t.queue_id, t.answer_at - 1.5, connected=True))
        t.answered = True

    def _idle_member(self, queue_id: str, media: str) -> SimUser | None:
        busy = self._busy_users()
        for u in sorted(self.users.values(), key=lambda u: (u.name, u.id)):
            if (u.state == "active" and queue_id in u.queue_ids and (u.station or media != "call")
                    and self.effective_status(u, busy) == "IDLE"):  # fmt: skip
                return u
        return None

    # ------------------------------------------------------------------ queues
    def get_queue(self, qid: str) -> SimQueue:
        with self.lock:
            q = self.queues.get(qid)
            if q is None:
                raise not_found(f"Queue {qid} not found")
            return q

    def list_queues(
        self,
        *,
        name: str | None,
        division_ids: list[str],
        ids: list[str],
        sort_desc: bool,
    ) -> list[SimQueue]:
        """Queues filtered like GET /routing/queues (see ``name_matches``), sorted by name."""
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

    def queue_counts(self, q: SimQueue) -> tuple[int, int]:
        """(memberCount, joinedMemberCount): from the simulated users when the queue has any."""
        with self.lock:
            members = [u for u in self.users.values() if q.id in u.queue_ids and u.state != "deleted"]
            if not members:
                return q.member_count, q.joined_member_count
            return len(members), sum(u.state == "active" for u in members)

    def snapshot(self, queue_id: str, media: str | None = None) -> QueueSnapshot:
        """Members by effective routing status, and interactions by state, of one queue."""
        with self.lock:
            self.settle()
            q = self.queues.get(queue_id) or SimQueue(queue_id, "", "", "")
            snap = QueueSnapshot(queue=q)
            busy = self._busy_users()
            for u in self.users.values():
                if queue_id in u.queue_ids and u.state == "active":
                    snap.members.append(u)
                    snap.statuses[self.effective_status(u, busy)] += 1
            for conv in self.conversations.values():
                if media is None or conv.media == media:
                    _classify(conv, queue_id, snap)
            return snap

    def estimated_wait(self, queue_id: str, media: str | None = None) -> int:
        """Seconds: 0 while an IDLE member is free for every waiting interaction, else
        ceil((waiting - available + 1) x aht / max(on-queue members, 1))."""
        snap = self.snapshot(queue_id, media)
        waiting = len(snap.waiting)
        if snap.available > waiting:
            return 0
        return math.ceil((waiting - snap.available + 1) * snap.queue.aht_seconds / max(snap.on_queue, 1))

    def queue_stats(self) -> list[QueueStats]:
        with self.lock:
            out = []
            for q in sorted(self.queues.values(), key=lambda q: (q.name.lower(), q.division_name)):
                snap = self.snapshot(q.id)
                out.append(
                    QueueStats(
                        queue_id=q.id, name=q.name, division_name=q.division_name,
                        members=len(snap.members), on_queue=snap.on_queue, available=snap.available,
                        interacting=len(snap.interacting), waiting=len(snap.waiting),
                        estimated_wait_seconds=self.estimated_wait(q.id),
                    )
                )  # fmt: skip
            return out

    def live_conversations(self) -> list[LiveConversation]:
        """Conversations not yet ended, oldest first, as the side panel lists them."""
        with self.lock:
            self.settle()
            now = time.time()
            convs = sorted((c for c in self.conversations.values() if not c.ended), key=lambda c: c.start)
            return [self._live_view(c, now) for c in convs]

    def _live_view(self, conv: Conversation, now: float) -> LiveConversation:
        holders = conv.holders()
        alerting = [g for g in conv.legs if g.state == "alerting" and g.purpose in AGENT_PURPOSES and g.end is None]
        acd = [g for g in conv.legs if g.live and g.purpose == "acd"]
        agent = (holders or alerting or [None])[0]
        if holders:
            state = "connected"
        elif alerting:
            state = "alerting"
        elif acd:
            state = "waiting"
        else:
            state = "ivr" if any(g.live and g.purpose == "ivr" for g in conv.legs) else "other"
        queue_id = acd[-1].queue_id if acd else (agent.queue_id if agent else None)
        sup = next((g for g in conv.legs if g.live and g.supervising), None)
        return LiveConversation(
            id=conv.id,
            media=MEDIA_LABEL[conv.media],
            state=state,
            agent_name=agent.name if agent else None,
            agent_user_id=agent.user_id if agent else None,
            agent_participant_id=agent.id if agent else None,
            queue_id=queue_id,
            queue_name=self.queues[queue_id].name if queue_id in self.queues else None,
            supervisor_name=sup.name if sup else None,
            transfer_state=conv.transfers[-1].state(now) if conv.transfers else None,
        )


def _classify(conv: Conversation, queue_id: str, snap: QueueSnapshot) -> None:
    holders = conv.holders()
    alerting = [g for g in conv.legs if g.state == "alerting" and g.purpose in AGENT_PURPOSES and g.end is None]
    for g in holders:
        if g.queue_id == queue_id:
            snap.interacting.append((conv, g))
    for g in alerting:
        if g.queue_id == queue_id:
            snap.alerting.append((conv, g))
    if holders or alerting:
        return
    for g in conv.legs:
        if g.live and g.purpose == "acd" and g.queue_id == queue_id:
            snap.waiting.append((conv, g))


def _check_choice(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {allowed}, not {value!r}")


def name_matches(pattern: str, name: str) -> bool:
    """Genesys' queue ``name`` filter, as simulated.

    Case-insensitive (Genesys does not document case; the bot must still compare exactly itself).
    Leading and/or trailing ``*`` are wildcards (``*foo`` ends with, ``foo*`` starts with, ``*foo*``
    contains); ``*`` alone (or only asterisks) matches everything; an asterisk inside the name is a
    literal character; without asterisks the match is exact.
    """
    p, n = pattern.lower(), name.lower()
    core = p.strip("*")
    if not core:
        return True
    lead, trail = p.startswith("*"), p.endswith("*")
    if lead and trail:
        return core in n
    if lead:
        return n.endswith(core)
    if trail:
        return n.startswith(core)
    return n == core


__all__ = ["QueueSnapshot", "SimError", "World", "name_matches"]
