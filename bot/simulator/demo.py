"""Demo org for `python app.py --simulate-genesys`, `python -m bot.simulator --seed-demo` and the playground.

Ids of queues, users and conversations are deterministic (uuid5 of a label, see ``demo_id``) so
docs and screenshots stay valid between runs; participant ids are random.

Queue health is deliberately uneven: Support_Tier1 has calls, a chat and an email waiting and no
available agent; Support_Tier2 (Home) has one available agent (Dave) and nothing waiting; Billing's
only IDLE member (Erin) has no station; Sales has a call waiting and nobody to take it.
Bob holds one voice call plus a chat and an email, so "find Bob's call" must pick the voice one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.simulator.entities import SimCall, SimQueue, SimUser

if TYPE_CHECKING:
    from bot.simulator.simulator import GenesysSimulator

_NS = uuid.UUID("6d1c3a52-5b0e-4a55-9d59-0f1b2f7e6a10")

DEMO_QUEUES = (
    ("Support_Tier1", "Home"),
    ("Support_Tier2", "Home"),
    ("Billing", "Home"),
    ("Sales", "Home"),
    ("Escalations", "Home"),
    ("Support_Tier2", "EMEA"),  # same name in another division: exercises ambiguity handling
)

DEMO_CALLS = ("connected", "ivr", "queued", "alerting", "ended", "conference", "message")

# key, name, email, routing status, queues ("Name" = Home division, "Name@Division" otherwise), options
DEMO_USERS: tuple[tuple[str, str, str, str, tuple[str, ...], dict], ...] = (
    ("alice", "Alice Agent", "alice@example.com", "IDLE", ("Support_Tier1", "Support_Tier2"), {}),
    ("bob", "Bob Agent", "bob@example.com", "IDLE", ("Support_Tier2", "Billing"), {}),
    ("carol", "Carol Agent", "carol@example.com", "IDLE", ("Support_Tier1", "Billing"), {}),
    ("dave", "Dave Agent", "dave@example.com", "IDLE", ("Support_Tier2", "Escalations"), {}),
    ("erin", "Erin Agent", "erin@example.com", "IDLE", ("Billing", "Sales"), {"station": False}),
    ("frank", "Frank Agent", "frank@example.com", "NOT_RESPONDING", ("Sales", "Support_Tier1"), {}),
    ("grace", "Grace Agent", "grace@example.com", "IDLE", ("Support_Tier2@EMEA",), {"division": "EMEA"}),
    ("heidi", "Heidi Agent", "heidi@example.com", "OFF_QUEUE", ("Support_Tier2", "Escalations"), {}),
    ("judy", "Judy Agent", "judy@example.com", "IDLE", ("Escalations",), {}),
    ("ivan", "Ivan Former", "ivan@example.com", "OFF_QUEUE", ("Support_Tier1",), {"state": "inactive"}),
    ("sam", "Sam Supervisor", "sam@example.com", "OFF_QUEUE", (), {}),
)

# key, media, scenario, agent key, queue, extra
DEMO_CONVERSATIONS: tuple[tuple[str, str, str, str | None, str, dict], ...] = (
    ("bob_call", "call", "connected", "bob", "Support_Tier2", {}),
    ("bob_chat", "chat", "connected", "bob", "Support_Tier2", {}),
    ("bob_email", "email", "connected", "bob", "Support_Tier1", {}),
    ("monitored", "call", "monitored", "judy", "Escalations", {"supervisor": "Sam Supervisor"}),
    ("callback_connected", "callback", "connected", "carol", "Billing", {}),
    ("callback_queued", "callback", "queued", None, "Billing", {}),
    ("chat_queued", "chat", "queued", None, "Support_Tier1", {}),
    ("email_queued", "email", "queued", None, "Support_Tier1", {}),
    ("chat_ended", "chat", "ended", "bob", "Support_Tier2", {}),
    ("waiting_1", "call", "queued", None, "Support_Tier1", {"started_seconds_ago": 95.0}),
    ("waiting_2", "call", "queued", None, "Support_Tier1", {"started_seconds_ago": 40.0}),
    ("waiting_sales", "call", "queued", None, "Sales", {"started_seconds_ago": 60.0}),
)

DEMO_AUTO_ANSWER_SECONDS = 8.0


def demo_id(label: str) -> str:
    """The deterministic id of a demo entity: "queue:Home:Billing", "user:bob", "call:connected",
    "conversation:bob_call"."""
    return str(uuid.uuid5(_NS, label))


_id = demo_id


@dataclass
class DemoSeed:
    queues: list[SimQueue] = field(default_factory=list)
    calls: dict[str, SimCall] = field(default_factory=dict)  # one voice call per legacy scenario
    users: dict[str, SimUser] = field(default_factory=dict)  # "alice", "bob", ...
    conversations: dict[str, SimCall] = field(default_factory=dict)  # "bob_call", "monitored", ...

    def summary(self) -> str:
        lines = ["Queues:"]
        lines += [f"  {q.name:<16} division={q.division_name:<5} id={q.id}" for q in self.queues]
        if self.users:
            lines.append("Users:")
            lines += [f"  {u.name:<16} {u.email:<20} {u.routing_status:<15} {u.state:<8} id={u.id}"
                      for u in self.users.values()]  # fmt: skip
        lines.append("Conversations:")
        for scenario, c in self.calls.items():
            agent = f" agent_participant={c.agent_participant_id}" if c.agent_participant_id else ""
            lines.append(f"  {scenario:<18} {c.id}{agent}")
        for key, c in self.conversations.items():
            agent = f" agent_participant={c.agent_participant_id}" if c.agent_participant_id else ""
            lines.append(f"  {key:<18} {c.id} ({c.media}, {c.scenario}){agent}")
        return "\n".join(lines)


def _queue_ref(seed: DemoSeed, ref: str) -> SimQueue:
    name, _, division = ref.partition("@")
    division = division or "Home"
    return next(q for q in seed.queues if q.name == name and q.division_name == division)


def seed_demo(sim: GenesysSimulator, *, auto_answer: float | None = DEMO_AUTO_ANSWER_SECONDS) -> DemoSeed:
    """Add the demo org (idempotent per simulator) and switch auto-answer on (None leaves it as is)."""
    seed = DemoSeed()
    world = sim.world
    with world.lock:
        for name, division in DEMO_QUEUES:
            qid = _id(f"queue:{division}:{name}")
            q = world.queues.get(qid) or sim.add_queue(name, division=division, queue_id=qid)
            seed.queues.append(q)
        for key, name, email, status, queues, options in DEMO_USERS:
            uid = _id(f"user:{key}")
            seed.users[key] = world.users.get(uid) or sim.add_user(
                name, email, routing_status=status, queues=[_queue_ref(seed, r) for r in queues], user_id=uid,
                **options,
            )  # fmt: skip
        home_t1 = seed.queues[0]
        for scenario in DEMO_CALLS:
            cid = _id(f"call:{scenario}")
            if cid in world.conversations:
                continue
            seed.calls[scenario] = sim.add_call(
                scenario=scenario,
                queue=home_t1,
                agent_name="Alice Agent",
                stale_agent_duplicates=2 if scenario == "connected" else 0,
                conversation_id=cid,
            )
        for key, media, scenario, agent, queue, extra in DEMO_CONVERSATIONS:
            cid = _id(f"conversation:{key}")
            if cid in world.conversations:
                continue
            seed.conversations[key] = sim.add_conversation(
                media, scenario, agent=seed.users[agent] if agent else None, queue=_queue_ref(seed, queue),
                conversation_id=cid, **extra,
            )  # fmt: skip
        if auto_answer is not None:
            sim.set_auto_answer(auto_answer)
    return seed
