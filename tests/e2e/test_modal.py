"""The transfer form end to end: opened three ways, its ids, a valid submit, and every field error.

FakeSlack keeps the modal as Slack would (trigger ids that work once within 3 s, the view stack,
`response_action: errors` shown on the view), so each test checks both what the bot answered and
what the person would see, and what Genesys received.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from bot.playground.slack_api import SlackUser
from tests.kit.slack_client import TEAM

REPLACE = r"/participants/[^/]+/replace/queue$"
LEAD = "U0LEAD001"
ALICE = "U0ALICE01"
FLOOR = "C0FLOOR01"
LINK = "https://apps.mypurecloud.ie/directory/#/engage/admin/interactions/{}"
IDS = ("call", "agent", "queue", "channel")


def ready(client):
    """The SDK loads in the background (seconds on a busy machine); the first request would wait on it."""
    assert client.bot.runtime.genesys.wait_ready(90)
    return client


@pytest.fixture
def client(make_bot):
    return ready(make_bot())


@pytest.fixture
def org(sim, slack):
    tier1 = sim.add_queue("Support_Tier1")
    tier2 = sim.add_queue("Support Tier 2")
    slack.add_user(SlackUser(LEAD, "lee", "Lee Lead", email="lee@example.com"))
    slack.add_user(SlackUser(ALICE, "alice", "Alice Agent", email="alice@example.com"))
    alice = sim.add_user("Alice Agent", "alice@example.com", queues=[tier1])
    return tier1, tier2, alice


def transfers(sim) -> list:
    return sim.requests_matching("POST", REPLACE)


def user_of(user: str) -> dict:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM}


def the_modal(slack, user: str):
    stack = slack.wait_for(lambda: slack.modal_stack(user))
    assert len(stack) == 1
    return stack[0]


def assert_is_the_form(view) -> None:
    spec = view.spec
    assert spec["type"] == "modal" and spec["callback_id"] == "transfer_modal"
    inputs = {b["block_id"]: b for b in spec["blocks"] if b["type"] == "input"}
    assert set(inputs) == set(IDS)
    for block_id, block in inputs.items():
        assert block["element"]["action_id"] == block_id
    assert [inputs[i]["element"]["type"] for i in IDS] == [
        "plain_text_input", "users_select", "external_select", "conversations_select"]
    assert inputs["channel"]["element"]["default_to_current_conversation"] is True
    assert inputs["queue"]["optional"] is False


def element(view, block_id: str) -> dict:
    return next(b for b in view.spec["blocks"] if b.get("block_id") == block_id)["element"]


def values(*, call: str | None = None, agent: str | None = None, queue_id: str | None = None,
           channel: str | None = None) -> dict:
    """state.values as Slack sends them (every input present, unset ones null)."""
    option = {"text": {"type": "plain_text", "text": "a queue"}, "value": queue_id} if queue_id else None
    return {
        "call": {"call": {"type": "plain_text_input", "value": call}},
        "agent": {"agent": {"type": "users_select", "selected_user": agent}},
        "queue": {"queue": {"type": "external_select", "selected_option": option}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": channel}},
    }


def submit(client, slack, view, user: str, state: dict, *, response_url_for: str | None = None):
    """The person presses Transfer: Slack posts view_submission, then shows what the ack said."""
    slack.set_view_values(view.id, state)
    payload = {
        "type": "view_submission", "user": user_of(user), "trigger_id": slack.issue_trigger(user),
        "view": slack.view_json(slack.view(view.id)), "is_enterprise_install": False, "enterprise": None,
        "response_urls": [],
    }
    if response_url_for:
        payload["response_urls"] = [{
            "block_id": "channel", "action_id": "channel", "channel_id": response_url_for,
            "response_url": slack.open_response_url(channel=response_url_for, user=user),
        }]
    reply = client.interaction(payload)
    assert reply.status == 200
    ack = json.loads(reply.body) if reply.body.strip() else None
    return ack, slack.submission_answered(user, view.id, ack)


def open_by_command(client, slack, user: str = LEAD, channel: str = FLOOR):
    trigger = slack.issue_trigger(user)
    before = len(slack.api_calls("views.open"))
    reply, _ = client.command("", user=user, channel=channel, trigger_id=trigger)
    assert reply.status == 200 and reply.body == ""
    assert slack.wait_api("views.open", before + 1)[before]["trigger_id"] == trigger
    return the_modal(slack, user)


def channel_texts(slack, channel: str, viewer: str) -> list[str]:
    return [m.text + json.dumps(m.blocks or []) for m, _ in slack.timeline(channel, viewer)]


# ---- opening the form -----------------------------------------------------------------------------

def test_transfer_with_no_text_opens_the_form_with_the_commands_trigger(sim, slack, client, org):
    view = open_by_command(client, slack)

    assert_is_the_form(view)
    assert element(view, "channel").get("initial_conversation") == FLOOR
    assert "initial_value" not in element(view, "call")
    assert sim.requests_matching(None, r"/api/v2/conversations") == []


def test_the_ack_does_not_wait_for_views_open(sim, slack, client):
    """Bolt answers Slack when the listener returns; opening the form happens after, on its own pool."""
    slack.inject("views.open", delay=1.5)  # a slow Slack API, well inside the trigger's 3 s
    trigger = slack.issue_trigger(LEAD)

    reply, _ = client.command("", user=LEAD, trigger_id=trigger)

    assert reply.status == 200 and slack.modal_stack(LEAD) == []  # acked before the form was opened
    assert slack.wait_api("views.open")[0]["trigger_id"] == trigger
    assert_is_the_form(the_modal(slack, LEAD))


def test_help_still_shows_usage_not_the_form(sim, slack, client):
    reply, _ = client.command("help", trigger_id=slack.issue_trigger("U0AGENT01"))

    assert "/transfer <conversation-id> <queue name>" in reply.json()["text"]
    time.sleep(0.3)
    assert slack.api_calls("views.open") == [] and slack.modal_stack("U0AGENT01") == []


def test_global_shortcut_opens_the_same_form(sim, slack, client):
    trigger = slack.issue_trigger(LEAD)

    reply = client.interaction({"type": "shortcut", "callback_id": "transfer_call", "trigger_id": trigger,
                                "user": user_of(LEAD), "action_ts": str(time.time()),
                                "is_enterprise_install": False, "enterprise": None})

    assert reply.status == 200
    assert slack.wait_api("views.open")[0]["trigger_id"] == trigger
    view = the_modal(slack, LEAD)
    assert_is_the_form(view)
    assert "initial_value" not in element(view, "call")


def message_shortcut(client, slack, text: str, *, user: str = LEAD, channel: str = FLOOR):
    trigger = slack.issue_trigger(user)
    reply = client.interaction({
        "type": "message_action", "callback_id": "transfer_call_from_message", "trigger_id": trigger,
        "user": user_of(user), "channel": {"id": channel, "name": "floor"}, "action_ts": str(time.time()),
        "message_ts": "1700000000.000100", "response_url": slack.response_url(uuid.uuid4().hex),
        "message": {"type": "message", "user": ALICE, "ts": "1700000000.000100", "text": text},
        "is_enterprise_install": False, "enterprise": None,
    })
    assert reply.status == 200
    assert slack.wait_api("views.open")[-1]["trigger_id"] == trigger
    return the_modal(slack, user)


@pytest.mark.parametrize("shape", ["link", "id"])
def test_message_shortcut_prefills_the_call(sim, slack, client, shape):
    conversation_id = str(uuid.uuid4())
    text = (f"please move my caller <{LINK.format(conversation_id)}|interaction> to tier 2" if shape == "link"
            else f"Alert: long call {conversation_id.upper()} on Support_Tier1")

    view = message_shortcut(client, slack, text)

    assert_is_the_form(view)
    assert element(view, "call")["initial_value"] == conversation_id
    assert element(view, "channel")["initial_conversation"] == FLOOR
    assert sim.requests_matching(None, r"/api/v2/conversations") == []


def test_message_shortcut_without_an_id_opens_an_empty_form_that_says_why(sim, slack, client):
    view = message_shortcut(client, slack, "can someone take my caller please")

    assert "initial_value" not in element(view, "call")
    assert "no conversation id or Genesys interaction link" in json.dumps(view.spec["blocks"])


# ---- submitting -----------------------------------------------------------------------------------

def test_valid_submit_closes_the_form_and_posts_the_result_in_the_chosen_channel(sim, slack, client, org):
    tier1, tier2, alice = org
    call = sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    view = open_by_command(client, slack)

    ack, shown = submit(client, slack, view, LEAD, values(call=LINK.format(call.id), queue_id=tier2.id,
                                                          channel=FLOOR), response_url_for=FLOOR)

    assert ack is None and shown == "closed"
    assert slack.modal_stack(LEAD) == []
    result = slack.wait_for(lambda: [t for t in channel_texts(slack, FLOOR, "U0SOMEONE") if "Transferred" in t])
    assert call.id[:8] in result[0] and "Support Tier 2" in result[0] and f"<@{LEAD}>" in result[0]
    assert any("Working on it" in t for t in channel_texts(slack, FLOOR, LEAD))  # ephemeral, to the requester
    posts = transfers(sim)
    assert len(posts) == 1 and call.agent_participant_id in posts[0].path and posts[0].json == {"queueId": tier2.id}


def test_submit_with_the_agent_and_no_channel_finds_their_call_and_answers_by_dm(sim, slack, client, org):
    tier1, tier2, alice = org
    call = sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    trigger = slack.issue_trigger(LEAD)
    client.interaction({"type": "shortcut", "callback_id": "transfer_call", "trigger_id": trigger,
                        "user": user_of(LEAD), "action_ts": str(time.time())})
    view = the_modal(slack, LEAD)

    ack, shown = submit(client, slack, view, LEAD, values(agent=ALICE, queue_id=tier2.id))

    assert ack is None and shown == "closed"
    dm = slack.dm_channel(LEAD).id
    result = slack.wait_for(lambda: [t for t in channel_texts(slack, dm, LEAD) if "Transferred" in t])
    assert call.id[:8] in result[0]
    assert slack.api_calls("users.info")[0]["user"] == ALICE
    search = sim.requests_matching("POST", r"/users/search$")[0].json
    assert search["query"] == [{"type": "EXACT", "fields": ["email"], "value": "alice@example.com"}]
    assert sim.requests_matching("POST", r"/activity/query$")[0].json["groupBy"]
    assert [(t.conversation_id, t.queue_id) for t in sim.transfers] == [(call.id, tier2.id)]
    assert FLOOR not in slack.channels or not slack.channels[FLOOR].messages


def test_submit_goes_through_approval_like_the_command(sim, slack, make_bot, org):
    tier1, tier2, alice = org
    call = sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    client = ready(make_bot(TRANSFER_APPROVERS="U0SUP0001", TRANSFER_APPROVAL_CHANNEL="C0APPROVE"))
    view = open_by_command(client, slack)

    ack, shown = submit(client, slack, view, LEAD, values(call=call.id, queue_id=tier2.id, channel=FLOOR),
                        response_url_for=FLOOR)

    assert ack is None and shown == "closed"
    post = slack.wait_api("chat.postMessage")[0]
    assert post["channel"] == "C0APPROVE"
    assert call.id[:8] in json.dumps(post["blocks"]) and "Support Tier 2" in json.dumps(post["blocks"])
    assert slack.wait_for(lambda: [t for t in channel_texts(slack, FLOOR, LEAD) if "waiting for a supervisor" in t])
    time.sleep(0.3)
    assert transfers(sim) == []
    request_id = post["blocks"][2]["elements"][0]["value"]

    client.click("transfer_approve", request_id, user="U0SUP0001", channel="C0APPROVE")

    assert "Transferred" in json.dumps(slack.wait_api("chat.update")[0]["blocks"])
    assert [(t.conversation_id, t.queue_id) for t in slack.wait_for(lambda: sim.transfers)] == [(call.id, tier2.id)]


def test_a_second_submit_of_the_same_call_is_refused_while_the_first_waits(sim, slack, make_bot, org):
    """Exactly-once holds for the form too: the same call can't be asked for twice at once."""
    tier1, tier2, alice = org
    call = sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    client = ready(make_bot(TRANSFER_APPROVERS="U0SUP0001", TRANSFER_APPROVAL_CHANNEL="C0APPROVE"))
    submit(client, slack, open_by_command(client, slack), LEAD, values(call=call.id, queue_id=tier2.id,
                                                                       channel=FLOOR), response_url_for=FLOOR)
    slack.wait_api("chat.postMessage")

    submit(client, slack, open_by_command(client, slack, user="U0LEAD002"), "U0LEAD002",
           values(call=call.id, queue_id=tier2.id, channel=FLOOR), response_url_for=FLOOR)

    refused = slack.wait_for(lambda: [t for t in channel_texts(slack, FLOOR, "U0LEAD002")
                                      if "already waiting for approval" in t])
    assert f"<@{LEAD}>" in refused[0]
    assert len(slack.api_calls("chat.postMessage")) == 1 and transfers(sim) == []


ERRORS = [
    ("nothing", {}, "call", "Paste the conversation id or link"),
    ("both", {"call": "3f1c2a4e-9b7d-4c1e-8f00-1234567890ab", "agent": ALICE}, "agent", "not both"),
    ("malformed", {"call": "../../oauth/token"}, "call", "isn't a conversation id"),
    ("half a uuid", {"call": "3f1c2a4e-9b7d-4c1e"}, "call", "isn't a conversation id"),
    ("no queue", {"call": "3f1c2a4e-9b7d-4c1e-8f00-1234567890ab", "queue_id": None}, "queue", "Pick a queue"),
]


@pytest.mark.parametrize(("case", "given", "field", "says"), ERRORS, ids=[e[0] for e in ERRORS])
def test_field_errors_keep_the_form_open_and_send_nothing(sim, slack, client, org, case, given, field, says):
    _, tier2, _ = org
    view = open_by_command(client, slack)
    state = values(**{"queue_id": tier2.id, "channel": FLOOR, **given})

    ack, shown = submit(client, slack, view, LEAD, state, response_url_for=FLOOR)

    assert ack is not None and ack["response_action"] == "errors"
    assert set(ack["errors"]) == {field} and says in ack["errors"][field]
    assert shown == "errors" and slack.modal_stack(LEAD)[0].errors == ack["errors"]
    time.sleep(0.3)
    assert not any(client.bot.service.ctx.store.count_by_state().values())  # nothing stored
    # No call or user was looked up (the queue health refresh, analytics/queues, runs on its own).
    assert sim.requests_matching(None, r"/api/v2/(conversations|users|analytics/(?!queues))") == []
    assert transfers(sim) == []
    assert slack.api_calls("chat.postMessage") == [] and slack.api_calls("chat.postEphemeral") == []
    assert [r for r in slack.received if r.kind == "response_url"] == []


def test_the_form_can_be_corrected_after_an_error(sim, slack, client, org):
    tier1, tier2, alice = org
    call = sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    view = open_by_command(client, slack)
    ack, _ = submit(client, slack, view, LEAD, values(queue_id=tier2.id, channel=FLOOR), response_url_for=FLOOR)
    assert ack["response_action"] == "errors"

    ack, shown = submit(client, slack, view, LEAD, values(call=call.id, queue_id=tier2.id, channel=FLOOR),
                        response_url_for=FLOOR)

    assert ack is None and shown == "closed"
    slack.wait_for(lambda: sim.transfers)
    assert len(transfers(sim)) == 1
