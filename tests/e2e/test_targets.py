"""Targets other than queues, end to end: an agent (Slack mention or agent:email) and an outside number.

Each test checks what Genesys received (the replace/agent or /transfer body, or that nothing was
sent) and what Slack showed (the approval message, the result, the refusal, the masked number).
"""

from __future__ import annotations

import json
import time

import PureCloudPlatformClientV2  # noqa: F401 - the SDK takes seconds to import on a busy machine: pay it here, once
import pytest

from bot.playground.slack_api import SlackUser

AGENT_REPLACE = r"/participants/[^/]+/replace/agent$"
ADDRESS = r"/participants/[^/]+/transfer$"
ANY_TRANSFER = r"/participants/[^/]+/(replace(/queue|/agent)?|transfer)$"
REQUESTER = "U0AGENT01"
SUPERVISOR = "U0SUP0001"
BOB_SLACK = "U0BOB0001"
FLOOR = "C0FLOOR01"
APPROVAL_CHANNEL = "C0APPROVE"
APPROVAL_ENV = {"TRANSFER_APPROVERS": SUPERVISOR, "TRANSFER_APPROVAL_CHANNEL": APPROVAL_CHANNEL}
NUMBER_TYPED = "+1 415-555 0100"
NUMBER = "+14155550100"
MASKED = "+1 415 ••• 0100"


def leaks(text: str) -> bool:
    """Whether the whole number shows, however it was written."""
    return any(form in text for form in (NUMBER, "4155550100", "415-555", "415 555", "555 0100", "555-0100"))


def sent(sim, path=ANY_TRANSFER) -> list:
    return sim.requests_matching("POST", path)


def blocks_text(message: dict) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + (message.get("text") or "")


def only_refusal(slack, key: str) -> str:
    message = slack.wait_responses(key)[0]
    assert message["response_type"] == "ephemeral"
    return message["text"]


def new_posts(slack, before: int) -> list[dict]:
    return slack.wait_api("chat.postMessage", before + 1)[before:]


def request_id_of(post: dict) -> str:
    actions = next(b for b in post["blocks"] if b["type"] == "actions")
    return actions["elements"][0]["value"]


def visible_in(slack, channel: str, viewer: str) -> str:
    """Everything `viewer` sees in `channel`: messages, edits, thread replies, command echoes."""
    parts = []
    for message, replies in slack.timeline(channel, viewer):
        for m in [message, *replies]:
            parts.append(m.text + json.dumps(m.blocks or [], ensure_ascii=False))
    return "\n".join(parts)


@pytest.fixture
def bob(sim, slack):
    """Bob: a Genesys agent who is also a Slack user (the mention resolves through his email)."""
    slack.add_user(SlackUser(BOB_SLACK, "bob", "Bob Agent", email="bob@example.com"))
    return sim.add_user("Bob Agent", "bob@example.com", routing_status="IDLE")


# ---- agents --------------------------------------------------------------------------------------


def test_agent_by_mention_needs_approval_shows_routing_status_and_replaces_with_that_user(sim, slack, make_bot, bob):
    client = make_bot(**APPROVAL_ENV)
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Ann")

    reply, key = client.command(f"{call.id} <@{BOB_SLACK}|bob>", user=REQUESTER)

    assert reply.status == 200
    post = new_posts(slack, 0)[0]
    assert post["channel"] == APPROVAL_CHANNEL
    text = blocks_text(post)
    assert "Bob Agent (agent, bob@example.com); idle when asked" in text
    assert "to transfer a call to *Bob Agent*" in text
    assert sim.requests_matching("GET", rf"/users/{bob.id}/routingstatus$")
    assert sent(sim) == []

    client.click("transfer_approve", request_id_of(post), user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    update = slack.wait_for(lambda: [u for u in slack.api_calls("chat.update") if "Transferred" in blocks_text(u)])
    assert "Transferred: the customer is now with Bob Agent." in blocks_text(update[-1])
    posts = sent(sim)
    assert len(posts) == 1
    assert posts[0].path.endswith(f"/participants/{call.agent_participant_id}/replace/agent")
    assert posts[0].json == {"userId": bob.id}
    assert [(t.kind, t.user_id) for t in sim.transfers] == [("agent", bob.id)]
    assert "waiting for a supervisor's approval" in slack.wait_responses(key)[0]["text"]
    thread = slack.wait_for(lambda: [m for m in slack.api_calls("chat.postMessage") if m.get("thread_ts")])
    assert f"<@{REQUESTER}>" in thread[0]["text"] and "now with Bob Agent" in thread[0]["text"]


def test_agent_by_email_transfers_directly_and_says_so_in_the_channel(sim, slack, client, bob):
    sim.set_routing_status(bob, "OFF_QUEUE")  # routing status informs approvers; it doesn't block
    call = sim.add_conversation("call", "connected", agent=sim.add_user("Ann Agent", "ann@example.com"))

    _, key = client.command(f"{call.id} agent:BOB@example.com", user=REQUESTER)

    result = slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")])[0]
    assert result["response_type"] == "in_channel"
    assert "Transferred: the customer is now with Bob Agent." in result["text"].replace("*", "")
    assert f"<@{REQUESTER}>" in result["text"]
    assert [p.json for p in sent(sim)] == [{"userId": bob.id}]
    assert sent(sim)[0].path.endswith(f"/participants/{call.agent_participant_id}/replace/agent")


def test_the_agent_already_on_the_call_is_refused_and_nothing_is_sent(sim, slack, client, bob):
    call = sim.add_conversation("call", "connected", agent=bob)

    _, key = client.command(f"{call.id} <@{BOB_SLACK}|bob>", user=REQUESTER)

    text = only_refusal(slack, key)
    assert "Not transferred" in text
    assert "Bob Agent" in text and "already" in text
    assert sent(sim) == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"state": "inactive"}, "inactive"),
    ({"station": False}, "station"),
])
def test_inactive_agent_or_one_without_a_station_is_refused(sim, slack, client, bob, change, expected):
    sim.update_user(bob, **change)
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))

    _, key = client.command(f"{call.id} agent:bob@example.com", user=REQUESTER)

    text = only_refusal(slack, key)
    assert "Bob Agent" in text and expected in text
    assert sent(sim) == []


def test_agent_unknown_to_genesys_is_refused(sim, slack, client):
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))

    _, key = client.command(f"{call.id} agent:nobody@example.com", user=REQUESTER)

    assert "nobody@example.com" in only_refusal(slack, key)
    assert sim.requests_matching("POST", r"/users/search$")
    assert sent(sim) == []


# ---- outside numbers ---------------------------------------------------------------------------


def test_number_is_approved_masked_in_the_channel_and_sent_to_the_address(sim, slack, make_bot):
    client = make_bot(**APPROVAL_ENV, TRANSFER_EXTERNAL_PREFIXES="+1,+44")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Ann")

    _, key = client.command(f"{call.id} {NUMBER_TYPED}", user=REQUESTER)

    post = new_posts(slack, 0)[0]
    text = blocks_text(post)
    assert MASKED in text and "(outside number)" in text
    assert not leaks(text)
    assert sent(sim) == []
    assert slack.wait_responses(key)[0]["response_type"] == "ephemeral"  # only the requester, who typed it

    client.home_opened(SUPERVISOR)
    home = slack.wait_for(lambda: slack.home(SUPERVISOR))
    assert NUMBER in json.dumps(home.spec["blocks"], ensure_ascii=False)  # approvers see it whole
    client.home_opened(REQUESTER)
    mine = slack.wait_for(lambda: slack.home(REQUESTER))
    assert not leaks(json.dumps(mine.spec["blocks"], ensure_ascii=False))

    client.click("transfer_approve", request_id_of(post), user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    update = slack.wait_for(lambda: [u for u in slack.api_calls("chat.update") if "Transferred" in blocks_text(u)])
    assert f"Transferred: the call now goes to {MASKED}." in blocks_text(update[-1])
    assert not leaks(blocks_text(update[-1]))
    posts = sent(sim)
    assert len(posts) == 1
    assert posts[0].path.endswith(f"/participants/{call.agent_participant_id}/transfer")
    assert posts[0].json == {"address": NUMBER}
    assert [(t.kind, t.address) for t in sim.transfers] == [("address", NUMBER)]
    thread = slack.wait_for(lambda: [m for m in slack.api_calls("chat.postMessage") if m.get("thread_ts")])
    assert not leaks(thread[0]["text"])


def test_number_outside_the_allowed_prefixes_is_refused_and_nothing_is_sent(sim, slack, make_bot):
    client = make_bot(**APPROVAL_ENV, TRANSFER_EXTERNAL_PREFIXES="+1,+44")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))

    _, key = client.command(f"{call.id} +33 1 23 45 67 89", user=REQUESTER)

    text = only_refusal(slack, key)
    assert "isn't in the numbers I may call" in text and "+1" in text and "+44" in text
    assert sent(sim) == []
    assert slack.api_calls("chat.postMessage") == []


def test_numbers_are_off_without_allowed_prefixes(sim, slack, make_bot):
    client = make_bot(**APPROVAL_ENV)
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))

    _, key = client.command(f"{call.id} {NUMBER_TYPED}", user=REQUESTER)

    assert "switched off" in only_refusal(slack, key)
    assert sent(sim) == []


def test_number_needs_approval_so_without_approvers_it_is_refused(sim, slack, make_bot):
    client = make_bot(TRANSFER_EXTERNAL_PREFIXES="+1")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))

    _, key = client.command(f"{call.id} {NUMBER_TYPED}", user=REQUESTER)

    text = only_refusal(slack, key)
    assert "needs approval, but no approvers are configured" in text and "4155550100" not in text
    assert sent(sim) == []
    assert slack.api_calls("chat.postMessage") == []


def test_number_with_external_no_approval_goes_direct_and_the_channel_sees_it_masked(sim, slack, make_bot):
    client = make_bot(**APPROVAL_ENV, TRANSFER_EXTERNAL_PREFIXES="+1", TRANSFER_EXTERNAL_NO_APPROVAL="true")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    command = f"{call.id} {NUMBER_TYPED}"
    url = slack.open_response_url(channel=FLOOR, user=REQUESTER, command_text=f"/transfer {command}")

    client.command(command, user=REQUESTER, key=url.rsplit("/", 1)[-1])

    seen = slack.wait_for(lambda: "Transferred" in visible_in(slack, FLOOR, "U0BYSTAND") and
                          visible_in(slack, FLOOR, "U0BYSTAND"))
    assert f"Transferred: the call now goes to {MASKED}." in seen.replace("*", "")
    assert not leaks(seen)
    assert [p.json for p in sent(sim)] == [{"address": NUMBER}]
    assert all(m["channel"] != APPROVAL_CHANNEL for m in slack.api_calls("chat.postMessage"))


@pytest.mark.parametrize("media", ["chat", "email", "callback"])
def test_numbers_are_refused_for_other_media(sim, slack, make_bot, media):
    client = make_bot(TRANSFER_EXTERNAL_PREFIXES="+1", TRANSFER_EXTERNAL_NO_APPROVAL="true")
    conversation = sim.add_conversation(media, "connected", queue=sim.add_queue("Support"))

    _, key = client.command(f"{conversation.id} {NUMBER_TYPED}", user=REQUESTER)

    text = only_refusal(slack, key)
    assert "Not transferred" in text and media in text
    assert sim.requests_matching("GET", rf"/api/v2/conversations/{conversation.id}$")
    assert sent(sim) == []
    time.sleep(0.2)
    assert sent(sim) == []


# ---- permissions each target needs -------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "method", "path", "permission"), [
    ("agent", "POST", AGENT_REPLACE, "`conversation:communication:blindTransferAgent` or "
                                     "`conversation:communication:blindTransfer`"),
    ("number", "POST", ADDRESS, "`conversation:communication:blindTransfer`"),
    ("agent", "POST", r"/api/v2/users/search$", "`directory:user:view`"),
    ("chat", "GET", r"/api/v2/conversations/[0-9a-f-]+$", "`conversation:communication:view`"),
])
def test_a_refused_permission_names_what_the_target_needs(sim, slack, make_bot, bob, kind, method, path, permission):
    client = make_bot(TRANSFER_EXTERNAL_PREFIXES="+1", TRANSFER_EXTERNAL_NO_APPROVAL="true")
    sim.add_queue("Support")
    media = "chat" if kind == "chat" else "call"
    conversation = sim.add_conversation(media, "connected", queue=sim.add_queue("Sales"))
    target = {"agent": "agent:bob@example.com", "number": NUMBER_TYPED, "chat": "Support"}[kind]
    sim.inject(method=method, path=path, status=403, code="missing.any.permissions", message="nope", times=None)

    _, key = client.command(f"{conversation.id} {target}", user=REQUESTER)

    text = slack.wait_for(lambda: [r for r in slack.responses(key) if "refused permission" in r.get("text", "")])[0][
        "text"]
    assert f"the bot's OAuth client lacks {permission}" in text
    refused = [r for r in sim.requests_matching(method, path) if r.status == 403]
    assert refused and refused[-1].correlation_id in text
    assert len(sent(sim)) == (1 if method == "POST" and path in (AGENT_REPLACE, ADDRESS) else 0)
    assert sim.transfers == []
