"""Demo org for `python app.py --simulate-genesys` and `python -m bot.simulator --seed-demo`.

Ids are deterministic (uuid5) so docs and screenshots stay valid between runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.simulator.world import SimCall, SimQueue

if TYPE_CHECKING:
    from bot.simulator.server import GenesysSimulator

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


def _id(label: str) -> str:
    return str(uuid.uuid5(_NS, label))


@dataclass
class DemoSeed:
    queues: list[SimQueue] = field(default_factory=list)
    calls: dict[str, SimCall] = field(default_factory=dict)

    def summary(self) -> str:
        lines = ["Queues:"]
        lines += [f"  {q.name:<16} division={q.division_name:<5} id={q.id}" for q in self.queues]
        lines.append("Conversations:")
        for scenario, c in self.calls.items():
            agent = f" agent_participant={c.agent_participant_id}" if c.agent_participant_id else ""
            lines.append(f"  {scenario:<10} {c.id}{agent}")
        return "\n".join(lines)


def seed_demo(sim: GenesysSimulator) -> DemoSeed:
    """Add demo queues and one conversation per scenario (idempotent per simulator)."""
    seed = DemoSeed()
    world = sim.world
    with world.lock:
        for name, division in DEMO_QUEUES:
            qid = _id(f"queue:{division}:{name}")
            q = world.queues.get(qid) or sim.add_queue(name, division=division, queue_id=qid)
            seed.queues.append(q)
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
    return seed
