"""Results that finish themselves: one Slack message per transfer, updated in place until Genesys settles.

Signed commands and clicks go to an in-process bot; the simulator decides when (and how) each
transfer ends after its 202; the fake Slack shows what the channel would show.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.kit.bots import InProcessBot
from tests.kit.env import bot_env
from tests.kit.slack_client import SlackClientSide

REPLACE = r"/participants/[^/]+/replace/queue$"
REQUESTER = "U0AGENT01"
SUPERVISOR = "U0SUP0001"
FLOOR = "C0FLOOR01"
APPROVAL_CHANNEL = "C0APPROVE"
APPROVAL_ENV = {"TRANSFER_APPROVERS": SUPERVISOR, "TRANSFER_APPROVAL_CHANNEL": APPROVAL_CHANNEL}
SENT = "waiting for Genesys to confirm"
NOT_CONFIRMED = "not confirmed yet"


@pytest.fixture
def start(make_bot):
    """make_bot, then wait for the Genesys client (its import is slow on a loaded machine)."""

    def started(**env: str) -> SlackClientSide:
        client = make_bot(**env)
        assert client.bot.runtime.genesys.wait_ready(90)
        return client

    return started


def command(slack, client, text, *, user=REQUESTER, channel=FLOOR):
    """/transfer with a response_url the fake Slack issued, so its posts land in the channel."""
    url = slack.open_response_url(channel=channel, user=user, command_text=f"/transfer {text}")
    key = url.rsplit("/", 1)[1]
    reply, _ = client.command(text, user=user, channel=channel, key=key)
    assert reply.status == 200
    return key


def flat(body: dict) -> str:
    return (body.get("text") or "") + json.dumps(body.get("blocks") or [])


def results(slack, key) -> list[dict]:
    """What the bot posted to the command's response_url for the channel (not the private notices)."""
    return [r for r in slack.responses(key) if r.get("response_type") == "in_channel"]


def bot_messages(slack, channel, viewer=REQUESTER):
    """Top-level bot messages the channel shows, with their thread replies."""
    return [(m, replies) for m, replies in slack.timeline(channel, viewer)
            if m.user == slack.bot_user_id and m.ephemeral_to is None]


def genesys_calls(sim, call):
    """Every request the bot made about this conversation: (method, path)."""
    return [(r.method, r.path) for r in sim.requests_matching(None, re.escape(call.id))]


def assert_one_post_then_gets(sim, call, *, completes=True):
    """Genesys received exactly one transfer POST; every read of the call after it was a GET."""
    calls = genesys_calls(sim, call)
    posts = [c for c in calls if c[0] != "GET"]
    assert len(posts) == 1 and re.search(REPLACE, posts[0][1]), calls
    after = calls[calls.index(posts[0]) + 1:]
    assert after and all(method == "GET" for method, _ in after), calls
    assert len(sim.transfers) == (1 if completes else 0)  # transfers the simulator will complete


def ask_approval(sim, slack, client, queue_name, agent="Alice"):
    queue = sim.add_queue(queue_name)
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name=agent)
    command(slack, client, f"{call.id} {queue_name}")
    post = slack.wait_api("chat.postMessage")[0]
    request_id = post["blocks"][2]["elements"][0]["value"]
    return call, queue, request_id


def approval_message(slack):
    (message, replies), = bot_messages(slack, APPROVAL_CHANNEL)
    return message, replies


# ---- confirmed later: the same message ---------------------------------------------------------

def test_direct_result_confirmed_8s_later_is_replaced_in_place_through_the_response_url(sim, slack, start):
    client = start()
    queue = sim.add_queue("Support Tier 2")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Alice")
    sim.set_transfer_outcome(call.id, "complete", delay=8)

    key = command(slack, client, f"{call.id} Support Tier 2")

    first = slack.wait_for(lambda: results(slack, key))[0]
    assert SENT in flat(first) and first["replace_original"] is False
    final = slack.wait_for(lambda: [r for r in results(slack, key) if "Transferred" in flat(r)], timeout=30)[-1]
    assert final["replace_original"] is True
    assert "Transferred: the customer is now waiting in Support Tier 2" in final["text"].replace("*", "")
    assert all(r["replace_original"] is True for r in results(slack, key)[1:])
    (message, _), = bot_messages(slack, FLOOR)  # one result message, now saying the truth
    assert "Transferred" in message.text and SENT not in message.text
    assert slack.api_calls("chat.postMessage") == [] and slack.api_calls("chat.update") == []
    assert_one_post_then_gets(sim, call)
    assert sim.transfers[0].queue_id == queue.id


def test_approved_transfer_confirmed_8s_later_updates_the_approval_message(sim, slack, start):
    client = start(**APPROVAL_ENV)
    call, _, request_id = ask_approval(sim, slack, client, "Billing")
    sim.set_transfer_outcome(call.id, "complete", delay=8)
    posted = slack.api_calls("chat.postMessage")[0]

    client.click("transfer_approve", request_id, user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    final = slack.wait_for(lambda: [u for u in slack.api_calls("chat.update") if "Transferred" in flat(u)],
                           timeout=30)[-1]
    updates = slack.api_calls("chat.update")
    assert any(SENT in flat(u) for u in updates[:-1])  # it said "sent" while Genesys had not confirmed
    message, _ = approval_message(slack)
    assert {u["ts"] for u in updates} == {message.ts} and final["channel"] == APPROVAL_CHANNEL
    assert "Transferred: the customer is now waiting in Billing" in flat(final).replace("*", "")
    assert "Transferred" in flat({"blocks": message.blocks}) and "actions" not in json.dumps(message.blocks)
    reply = slack.wait_for(lambda: [m for m in slack.api_calls("chat.postMessage") if m.get("thread_ts")])
    assert [m["thread_ts"] for m in reply] == [message.ts] and "Transferred" in reply[0]["text"]
    assert len(slack.api_calls("chat.postMessage")) == 2
    assert posted["channel"] == APPROVAL_CHANNEL and len(bot_messages(slack, APPROVAL_CHANNEL)) == 1
    assert_one_post_then_gets(sim, call)


# ---- accepted, then failed -------------------------------------------------------------------------

@pytest.mark.parametrize(("outcome", "state"), [("failed", "Failed"), ("canceled", "Canceled"),
                                                ("timeout", "Timeout")])
def test_direct_transfer_failing_after_acceptance_is_reported_failed_and_the_requester_told(
        sim, slack, start, outcome, state):
    client = start()
    sim.add_queue("Support Tier 2")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Alice")
    sim.set_transfer_outcome(call.id, outcome, delay=3)

    key = command(slack, client, f"{call.id} Support Tier 2")

    failed = f"Genesys accepted the transfer but it failed ({state}); the caller is still with Alice"
    final = slack.wait_for(lambda: [r for r in results(slack, key) if failed in flat(r)], timeout=30)[-1]
    assert final["replace_original"] is True
    told = slack.wait_for(lambda: [r for r in slack.responses(key)
                                   if r.get("response_type") == "ephemeral" and failed in flat(r)])
    assert told
    everything = [flat(r) for r in slack.responses(key)] + [flat(c) for c in slack.api_calls("chat.postMessage")]
    assert not any("Transferred" in text for text in everything)
    (message, _), = bot_messages(slack, FLOOR)
    assert failed in message.text and "Not transferred" in message.text
    private = [m for m, _ in slack.timeline(FLOOR, REQUESTER) if m.ephemeral_to == REQUESTER]
    assert any(failed in m.text for m in private)
    assert_one_post_then_gets(sim, call, completes=False)


def test_approved_transfer_that_times_out_shows_on_the_approval_message_and_in_the_thread(sim, slack, start):
    client = start(**APPROVAL_ENV)
    call, _, request_id = ask_approval(sim, slack, client, "Billing")
    sim.set_transfer_outcome(call.id, "timeout", delay=3)

    client.click("transfer_approve", request_id, user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    failed = "Genesys accepted the transfer but it failed (Timeout); the caller is still with Alice"
    slack.wait_for(lambda: [u for u in slack.api_calls("chat.update") if failed in flat(u)], timeout=30)
    reply = slack.wait_for(lambda: [m for m in slack.api_calls("chat.postMessage") if m.get("thread_ts")])[0]
    assert f"<@{REQUESTER}>" in reply["text"] and failed in reply["text"]
    message, replies = approval_message(slack)
    assert failed in json.dumps(message.blocks) and [r.text for r in replies] == [reply["text"]]
    assert not any("Transferred" in flat(u) for u in slack.api_calls("chat.update"))
    assert_one_post_then_gets(sim, call, completes=False)


# ---- restart while waiting ---------------------------------------------------------------------------

def test_restart_while_a_confirmation_is_pending_still_updates_the_message(sim, slack, tmp_path):
    env = bot_env(slack, sim, f"sqlite:///{tmp_path / 'restart.db'}")
    sim.add_queue("Support Tier 2")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Alice")
    sim.set_transfer_outcome(call.id, "complete", delay=6)
    first = InProcessBot(env)
    try:
        assert first.runtime.genesys.wait_ready(90)
        key = command(slack, SlackClientSide(slack, "127.0.0.1", first.port), f"{call.id} Support Tier 2")
        slack.wait_for(lambda: results(slack, key))
        slack.wait_for(lambda: _accepted(first, call.id))  # Genesys answered 202, not confirmed yet
    finally:
        first.stop()
    assert not any("Transferred" in flat(r) for r in slack.responses(key))

    second = InProcessBot(env)
    try:
        final = slack.wait_for(lambda: [r for r in results(slack, key) if "Transferred" in flat(r)], timeout=45)[-1]
    finally:
        second.stop()
    assert final["replace_original"] is True
    (message, _), = bot_messages(slack, FLOOR)
    assert "Transferred: the customer is now waiting in Support Tier 2" in message.text.replace("*", "")
    assert slack.api_calls("chat.postMessage") == []
    assert_one_post_then_gets(sim, call)


def _accepted(bot, conversation_id):
    request = bot.service.ctx.store.open_for_conversation(conversation_id)
    return [request.id] if request is not None and request.state.value == "accepted" else []


# ---- never confirmed ---------------------------------------------------------------------------------

def test_confirmation_given_up_after_the_timeout_says_so_plainly(sim, slack, start):
    client = start(TRANSFER_CONFIRM_TIMEOUT_SECONDS="5")
    sim.add_queue("Support Tier 2")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Alice")
    sim.set_transfer_outcome(call.id, "pending")

    key = command(slack, client, f"{call.id} Support Tier 2")

    final = slack.wait_for(lambda: [r for r in results(slack, key) if "never confirmed" in flat(r)], timeout=40)[-1]
    correlation_id = sim.requests_matching("POST", REPLACE)[0].correlation_id
    text = final["text"]
    assert final["replace_original"] is True
    assert "Genesys accepted the transfer but never confirmed it" in text
    assert correlation_id and correlation_id in text
    assert "Check in Genesys" in text and "I did not resend it" in text
    assert NOT_CONFIRMED not in text and SENT not in text and "Transferred" not in text
    (message, _), = bot_messages(slack, FLOOR)
    assert "never confirmed" in message.text and NOT_CONFIRMED not in message.text
    told = slack.wait_for(lambda: [r for r in slack.responses(key)
                                   if r.get("response_type") == "ephemeral" and "never confirmed" in flat(r)])
    assert correlation_id in told[0]["text"]
    assert_one_post_then_gets(sim, call, completes=False)
