"""Chats, emails and callbacks, end to end: read with GET /conversations/{id}, moved with replace/queue or
replace/agent, and named for what they are in every message.
"""

from __future__ import annotations

import json

import PureCloudPlatformClientV2  # noqa: F401 - the SDK takes seconds to import on a busy machine: pay it here, once
import pytest

from bot.playground.slack_api import SlackUser

QUEUE_REPLACE = r"/participants/[^/]+/replace/queue$"
AGENT_REPLACE = r"/participants/[^/]+/replace/agent$"
ANY_TRANSFER = r"/participants/[^/]+/(replace(/queue|/agent)?|transfer)$"
REQUESTER = "U0AGENT01"
SUPERVISOR = "U0SUP0001"
APPROVAL_CHANNEL = "C0APPROVE"
APPROVAL_ENV = {"TRANSFER_APPROVERS": SUPERVISOR, "TRANSFER_APPROVAL_CHANNEL": APPROVAL_CHANNEL}
ARTICLE = {"call": "a call", "chat": "a chat", "email": "an email", "callback": "a callback"}


def sent(sim, path=ANY_TRANSFER) -> list:
    return sim.requests_matching("POST", path)


def shown(message: dict) -> str:
    return (message.get("text") or "") + json.dumps(message.get("blocks") or [], ensure_ascii=False)


def request_id_of(post: dict) -> str:
    actions = next(b for b in post["blocks"] if b["type"] == "actions")
    return actions["elements"][0]["value"]


def final_update(slack) -> dict:
    return slack.wait_for(lambda: [u for u in slack.api_calls("chat.update") if "Transferred" in shown(u)])[-1]


def read_generically(sim, conversation_id: str) -> bool:
    return any(r.status == 200 for r in sim.requests_matching("GET", rf"/api/v2/conversations/{conversation_id}$"))


def test_chat_moves_to_a_queue_from_its_single_connected_agent_leg(sim, slack, client):
    support = sim.add_queue("Support")
    ann = sim.add_user("Ann Agent", "ann@example.com")
    chat = sim.add_conversation("chat", "connected", agent=ann, queue=sim.add_queue("Sales"),
                                stale_agent_duplicates=2)

    _, key = client.command(f"{chat.id} Support", user=REQUESTER)

    result = slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")])[0]
    assert result["response_type"] == "in_channel"
    text = result["text"].replace("*", "")
    assert "Transferred: the customer is now waiting in Support." in text
    assert f"chat `{chat.id[:8]}`" in text and "call `" not in text
    assert read_generically(sim, chat.id)
    posts = sent(sim)
    assert len(posts) == 1
    assert posts[0].path.endswith(f"/participants/{chat.agent_participant_id}/replace/queue")
    assert posts[0].json == {"queueId": support.id}
    assert [(t.kind, t.queue_id) for t in sim.transfers] == [("queue", support.id)]


def test_email_moves_to_an_agent_after_approval(sim, slack, make_bot):
    client = make_bot(**APPROVAL_ENV)
    slack.add_user(SlackUser("U0BOB0001", "bob", "Bob Agent", email="bob@example.com"))
    bob = sim.add_user("Bob Agent", "bob@example.com", routing_status="OFF_QUEUE")
    email = sim.add_conversation("email", "connected", agent=sim.add_user("Ann Agent", "ann@example.com"),
                                 queue=sim.add_queue("Billing"), subject="Refund")

    _, key = client.command(f"{email.id} <@U0BOB0001>", user=REQUESTER)

    post = slack.wait_api("chat.postMessage")[0]
    assert post["channel"] == APPROVAL_CHANNEL
    assert "asks to transfer an email to *Bob Agent*" in shown(post)
    assert f"email `{email.id[:8]}`" in shown(post)
    assert "off queue when asked" in shown(post)
    assert "waiting for a supervisor's approval" in slack.wait_responses(key)[0]["text"]
    assert sent(sim) == []

    client.click("transfer_approve", request_id_of(post), user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    update = final_update(slack)
    assert "Transferred: the customer is now with Bob Agent." in shown(update)
    assert f"email `{email.id[:8]}`" in shown(update)
    posts = sent(sim)
    assert len(posts) == 1
    assert posts[0].path.endswith(f"/participants/{email.agent_participant_id}/replace/agent")
    assert posts[0].json == {"userId": bob.id}
    assert read_generically(sim, email.id)


@pytest.mark.parametrize("media", ["chat", "email"])
def test_a_digital_interaction_moves_to_an_agent_without_a_phone_station(sim, slack, client, media):
    bob = sim.add_user("Bob Agent", "bob@example.com", station=False)  # stations ring calls; chats don't need one
    conversation = sim.add_conversation(media, "connected", queue=sim.add_queue("Web"))

    _, key = client.command(f"{conversation.id} agent:bob@example.com", user=REQUESTER)

    result = slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")],
                            timeout=20)[0]
    assert "now with Bob Agent" in result["text"] and f"{media} `" in result["text"]
    assert [p.json for p in sent(sim, AGENT_REPLACE)] == [{"userId": bob.id}]


def test_callback_moves_to_a_queue_after_approval(sim, slack, make_bot):
    client = make_bot(**APPROVAL_ENV)
    target = sim.add_queue("Callbacks_Tier2")
    callback = sim.add_conversation("callback", "connected", queue=sim.add_queue("Callbacks"))

    client.command(f"{callback.id} Callbacks_Tier2", user=REQUESTER)

    post = slack.wait_api("chat.postMessage")[0]
    assert "asks to transfer a callback to *Callbacks_Tier2*" in shown(post)
    client.click("transfer_approve", request_id_of(post), user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    update = final_update(slack)
    assert "Transferred: the customer is now waiting in Callbacks_Tier2." in shown(update)
    assert f"callback `{callback.id[:8]}`" in shown(update)
    posts = sent(sim)
    assert [p.json for p in posts] == [{"queueId": target.id}]
    assert posts[0].path.endswith(f"/participants/{callback.agent_participant_id}/replace/queue")


@pytest.mark.parametrize("media", ["call", "chat", "email", "callback"])
def test_approval_message_and_result_name_the_kind_of_interaction(sim, slack, make_bot, media):
    client = make_bot(**APPROVAL_ENV)
    sim.add_queue("Billing")
    conversation = sim.add_conversation(media, "connected", queue=sim.add_queue("Sales"))

    client.command(f"{conversation.id} Billing", user=REQUESTER)

    post = slack.wait_api("chat.postMessage")[0]
    assert f"asks to transfer {ARTICLE[media]} to *Billing*" in shown(post)
    assert f"*{media.capitalize()} going for:*" in shown(post)
    client.click("transfer_approve", request_id_of(post), user=SUPERVISOR, channel=APPROVAL_CHANNEL)
    update = final_update(slack)
    assert f"{media} `{conversation.id[:8]}`" in shown(update)
    thread = slack.wait_for(lambda: [m for m in slack.api_calls("chat.postMessage") if m.get("thread_ts")])
    assert "Transferred" in thread[0]["text"]
    assert len(sent(sim, QUEUE_REPLACE)) == 1


@pytest.mark.parametrize("media", ["chat", "email", "callback"])
@pytest.mark.parametrize(("scenario", "expected"), [
    ("ended", "has already ended"),
    ("queued", "waiting in a queue"),
])
def test_ended_or_queued_interactions_are_refused_with_their_own_message(sim, slack, client, media, scenario,
                                                                          expected):
    sim.add_queue("Billing")
    conversation = sim.add_conversation(media, scenario, queue=sim.add_queue("Sales"))

    _, key = client.command(f"{conversation.id} Billing", user=REQUESTER)

    message = slack.wait_responses(key)[0]
    assert message["response_type"] == "ephemeral"
    assert f"That {media} " in message["text"] and expected in message["text"]
    assert "call" not in message["text"].replace("callback", "")
    assert "*Next:*" in message["text"]
    assert read_generically(sim, conversation.id)
    assert sent(sim) == []
