"""Picking one of an agent's several calls: a new request for that call, the old choice replaced."""

from __future__ import annotations

from bot.domain.problems import Code
from bot.domain.request import RequestState
from bot.slack.listeners.actions.pick import handle_pick, split_pick
from bot.slack.render import requester_notice
from tests.unit.service.conftest import OUTSIDER, REQUESTER
from tests.unit.slack.conftest import Harness

S = RequestState
HOOK = "https://hooks.slack.com/actions/T1/3/pick"


def several(h: Harness):
    w = h.world
    agent = w.genesys.add_user("Alice", "alice@example.com")
    w.people.emails["U0ALICE01"] = "alice@example.com"
    first, second = w.genesys.add_call(agent=agent), w.genesys.add_call(agent=agent)
    refused = w.ask("agent-chat:U0ALICE01", "Support_Tier2")
    assert refused.state is S.REFUSED and refused.problem.code is Code.SEVERAL_CALLS
    return refused, first, second


def pick_body(value, user=REQUESTER):
    return {"user": {"id": user}, "actions": [{"action_id": "transfer_pick_call", "value": value}],
            "container": {"type": "message", "is_ephemeral": True, "channel_id": "C0SUPPORT"}, "response_url": HOOK}


def test_the_notice_buttons_round_trip(harness: Harness):
    refused, first, second = several(harness)
    buttons = [b["accessory"] for b in requester_notice(refused)["blocks"] if b.get("accessory")]
    assert {split_pick(b["value"]) for b in buttons} == {(refused.id, first.id), (refused.id, second.id)}


def test_pick_makes_a_new_request_and_replaces_the_choice(harness: Harness):
    refused, first, _ = several(harness)
    handle_pick(harness.recorder.ack, pick_body(f"{refused.id}:{first.id}"), harness.deps)
    assert harness.recorder.kinds() == ["ack", "run_later"]
    harness.recorder.run_jobs()
    (_, body), = harness.delivery.responses
    assert body["replace_original"] is True and f"Picked call `{first.id[:8]}`" in body["text"]
    fresh = harness.world.store.open_for_conversation(first.id)
    assert fresh is not None and fresh.state is S.PENDING and fresh.id != refused.id
    assert harness.state.urls[fresh.id][0] == HOOK


def test_someone_else_cannot_pick(harness: Harness):
    refused, first, _ = several(harness)
    handle_pick(harness.recorder.ack, pick_body(f"{refused.id}:{first.id}", OUTSIDER), harness.deps)
    harness.recorder.run_jobs()
    (_, body), = harness.delivery.responses
    assert "Only the person who asked" in body["text"] and body["replace_original"] is False


def test_junk_values_are_not_ours(harness: Harness):
    for value in ("", "abc", f"{'0' * 32}:not-a-uuid", "../..:x"):
        assert split_pick(value) is None
    handle_pick(harness.recorder.ack, pick_body("abc"), harness.deps)
    assert harness.recorder.jobs == []
    assert "doesn't belong" in harness.delivery.responses[0][1]["text"]
