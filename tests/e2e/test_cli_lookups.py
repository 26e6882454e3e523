"""The command line's new lookups, as an operator runs them: `python -m bot transfer --agent …`
and `python -m bot queues [filter]`, against the built-in demo simulator and against a simulator
this test controls (so what Genesys received can be checked). Each run is its own OS process;
they run side by side to keep the suite quick.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.simulator import GenesysSimulator, demo_id, seed_demo
from bot.simulator.analytics import activity_entities

ROOT = Path(__file__).resolve().parents[2]
SEARCH = r"/api/v2/users/search$"
ACTIVITY = r"/api/v2/analytics/conversations/activity/query$"
OBSERVATIONS = r"/api/v2/analytics/queues/observations/query$"
REPLACE = r"/participants/[^/]+/replace/queue$"


@dataclass
class Run:
    rc: int
    out: str
    err: str


def start(args: list[str], workdir: Path, sim: GenesysSimulator | None = None) -> subprocess.Popen:
    """`python -m bot <args>` in its own directory (its own database), with no .env and no inherited settings."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_"))}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{workdir / 'cli.db'}", "LOG_LEVEL": "WARNING"})
    if sim is not None:
        env.update({"GENESYS_CLOUD_API_HOST": sim.url, "GENESYS_CLOUD_CLIENT_ID": sim.client_id,
                    "GENESYS_CLOUD_CLIENT_SECRET": sim.client_secret})
    return subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=workdir, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen) -> Run:
    out, err = proc.communicate(timeout=180)
    return Run(proc.returncode, out, err)


@pytest.fixture
def demo() -> GenesysSimulator:
    """The same demo org the CLI's --simulate-genesys starts, to know what it should print."""
    simulator = GenesysSimulator().start()
    seed_demo(simulator, auto_answer=None)
    yield simulator
    simulator.stop()


def test_demo_mode_lookups_by_agent_email_and_queue_health(tmp_path, demo):
    bob = start(["transfer", "--agent", "bob@example.com", "Billing", "--simulate-genesys"], tmp_path / "bob")
    alice = start(["transfer", "--agent", "alice@example.com", "Support Tier 2", "--simulate-genesys"],
                  tmp_path / "alice")
    queues = start(["queues", "support", "--simulate-genesys"], tmp_path / "queues")
    bob, alice, queues = finish(bob), finish(alice), finish(queues)

    # Bob holds a voice call, a chat and an email: the voice call is the one that moves.
    assert bob.rc == 0, bob.err
    assert f"Transferred: call {demo_id('conversation:bob_call')} → Billing" in bob.out
    # Alice is on several calls: nothing moves, and the operator is shown which, to pick one by id.
    alice_id = demo_id("user:alice")
    hers = sorted({e["conversationId"] for e in activity_entities(demo.world)
                   if e.get("userId") == alice_id and e["metric"] == "oInteracting" and e["mediaType"] == "voice"})
    assert len(hers) >= 2
    assert alice.rc == 1
    assert f"Alice Agent has {len(hers)} live calls" in alice.err
    for conversation_id in hers:
        assert conversation_id in alice.err
    assert "Transferred" not in alice.out + alice.err
    # Queues whose name holds "support", with live health, one line each.
    lines = [line for line in queues.out.splitlines() if line.strip()]
    assert queues.rc == 0, queues.err
    expected = sorted(
        f"{s.name} ({s.division_name})\t{s.available} available, {s.waiting} waiting\t{s.queue_id}"
        for s in demo.queue_stats() if "support" in s.name.casefold()
    )
    assert sorted(lines) == expected
    assert any(not line.split("\t")[1].startswith("0 available") for line in lines)


def test_cli_lookups_ask_genesys_the_documented_way(tmp_path, sim):
    tier2 = sim.add_queue("Support Tier 2")
    sales = sim.add_queue("Sales")
    alice = sim.add_user("Alice Agent", "Alice@Example.com", queues=[sales])
    chat = sim.add_conversation("chat", "connected", agent=alice, queue=sales)
    call = sim.add_conversation("call", "connected", agent=alice, queue=sales)
    sim.inject(method="POST", path=OBSERVATIONS, status=403, code="missing.any.permissions",
               message="You are missing the following permission(s): [analytics:queueObservation:view]", times=None)
    refusing = GenesysSimulator().start()
    refusing.inject(method="POST", path=SEARCH, status=403, code="missing.any.permissions",
                    message="You are missing the following permission(s): [directory:user:view]", times=None)
    try:
        moved = start(["transfer", "--agent", "alice@example.com", "Support Tier 2"], tmp_path / "moved", sim)
        listed = start(["queues", "tier"], tmp_path / "listed", sim)
        refused = start(["transfer", "--agent", "alice@example.com", "Support Tier 2"], tmp_path / "refused",
                        refusing)
        moved, listed, refused = finish(moved), finish(listed), finish(refused)
        refused_requests = refusing.requests_matching("POST", SEARCH)
    finally:
        refusing.stop()

    assert moved.rc == 0, moved.err
    assert f"Transferred: call {call.id} → Support Tier 2" in moved.out
    search = sim.requests_matching("POST", SEARCH)
    assert [r.json["query"] for r in search] == [[{"type": "EXACT", "fields": ["email"], "value": "alice@example.com"}]]
    query = sim.requests_matching("POST", ACTIVITY)[0].json
    assert query["groupBy"] and {"metric": "oInteracting", "details": True} in query["metrics"]
    assert query["filter"]["predicates"][0]["dimension"] == "userId"
    assert query["filter"]["predicates"][0]["value"] == alice.id
    posts = sim.requests_matching("POST", REPLACE)
    assert len(posts) == 1 and f"/conversations/{call.id}/" in posts[0].path and chat.id not in posts[0].path
    assert posts[0].json == {"queueId": tier2.id}

    # Health refused: the queues are still listed, by name, and the missing permission is named.
    assert listed.rc == 0, listed.err
    assert [line.split("\t")[0] for line in listed.out.splitlines() if line.strip()] == ["Support Tier 2 (Home)"]
    assert "health unknown" in listed.out and tier2.id in listed.out
    assert "analytics:queueObservation:view" in listed.err
    assert "Traceback" not in listed.err
    observed = sim.requests_matching("POST", OBSERVATIONS)
    assert observed and all(r.status == 403 for r in observed)

    # Users search refused: nothing transferred, and the refusal names directory:user:view.
    assert refused.rc == 1
    assert re.search(r"directory:user:view", refused.err), refused.err
    assert refused_requests and refused_requests[-1].correlation_id in refused.err
    assert "Traceback" not in refused.err
