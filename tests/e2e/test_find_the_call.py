"""Naming the call by its agent (`/transfer <@U…|alice> …`, `me`, `agent:<email>`), end to end.

Slack side: FakeSlack knows the people (users.info answers their email, or hides it). Genesys
side: the simulator has users with those emails holding live conversations. Each test checks
what Genesys was asked (users/search, the activity query, the transfer) and what Slack showed.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from bot.playground.slack_api import SlackUser

REPLACE = r"/participants/[^/]+/replace/queue$"
SEARCH = r"/api/v2/users/search$"
ACTIVITY = r"/api/v2/analytics/conversations/activity/query$"
LEAD = "U0LEAD001"
ALICE = "U0ALICE01"


def transfers(sim) -> list:
    return sim.requests_matching("POST", REPLACE)


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") + json.dumps(m.get("blocks") or []) for m in messages)


def ready(client):
    """The SDK loads in the background (seconds on a busy machine); the first request would wait on it."""
    assert client.bot.runtime.genesys.wait_ready(90)
    return client


@pytest.fixture
def client(make_bot):
    return ready(make_bot())


@pytest.fixture
def org(sim, slack):
    """Two queues, and Alice: a Slack user whose email is the one her Genesys user has."""
    tier1 = sim.add_queue("Support_Tier1")
    tier2 = sim.add_queue("Support_Tier2")
    slack.add_user(SlackUser(LEAD, "lee", "Lee Lead", email="lee@example.com"))
    slack.add_user(SlackUser(ALICE, "alice", "Alice Agent", email="Alice@Example.com"))
    alice = sim.add_user("Alice Agent", "alice@example.com", queues=[tier1])
    return tier1, tier2, alice


def assert_found_by_email(sim, email: str, user_id: str | None) -> None:
    """Genesys was asked the real way: users/search EXACT on email; then the activity query."""
    searches = sim.requests_matching("POST", SEARCH)
    assert searches, "no users/search"
    criteria = searches[0].json["query"]
    assert criteria == [{"type": "EXACT", "fields": ["email"], "value": email}]
    if user_id is None:
        assert sim.requests_matching("POST", ACTIVITY) == []
        return
    query = sim.requests_matching("POST", ACTIVITY)[0].json
    assert query["groupBy"], "every activity query needs a groupBy dimension"
    assert {"metric": "oInteracting", "details": True} in query["metrics"]
    predicates = query["filter"]["predicates"]
    assert {"type": "dimension", "dimension": "userId", "value": user_id} in [
        {k: p.get(k) for k in ("type", "dimension", "value")} for p in predicates]


def test_mention_transfers_the_call_alice_is_on(sim, slack, client, org):
    tier1, tier2, alice = org
    call = sim.add_conversation("call", "connected", agent=alice, queue=tier1)

    reply, key = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)

    assert reply.status == 200
    assert f"<@{ALICE}>'s live call" in reply.body
    result = slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")])[0]
    assert result["response_type"] == "in_channel"
    assert call.id[:8] in result["text"] and "Support_Tier2" in result["text"]
    assert slack.api_calls("users.info")[0]["user"] == ALICE
    assert_found_by_email(sim, "Alice@Example.com", alice.id)
    posts = transfers(sim)
    assert len(posts) == 1
    assert f"/conversations/{call.id}/participants/{call.agent_participant_id}/" in posts[0].path
    assert posts[0].json == {"queueId": tier2.id}


def test_a_second_mention_soon_after_reuses_the_mapping(sim, slack, client, org):
    tier1, _, alice = org
    first = sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    _, key1 = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)
    slack.wait_for(lambda: [r for r in slack.responses(key1) if "Transferred" in r.get("text", "")])
    second = sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    assert first.id != second.id

    _, key2 = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)

    slack.wait_for(lambda: [r for r in slack.responses(key2) if "Transferred" in r.get("text", "")])
    assert len(slack.api_calls("users.info")) == 1
    assert len(sim.requests_matching("POST", SEARCH)) == 1
    assert len(sim.requests_matching("POST", ACTIVITY)) == 2  # what she is on is never cached
    assert [t.conversation_id for t in sim.transfers] == [first.id, second.id]


def test_me_transfers_the_requesters_own_call_through_approval(sim, slack, make_bot, org):
    tier1, tier2, alice = org
    call = sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    client = ready(make_bot(TRANSFER_APPROVERS="U0SUP0001", TRANSFER_APPROVAL_CHANNEL="C0APPROVE"))

    reply, key = client.command("me Support Tier 2", user=ALICE)

    assert "checking your live call" in reply.body
    post = slack.wait_api("chat.postMessage")[0]
    assert post["channel"] == "C0APPROVE"
    assert call.id[:8] in json.dumps(post["blocks"])
    assert transfers(sim) == []  # as if its id had been typed: it waits for a supervisor
    request_id = post["blocks"][2]["elements"][0]["value"]
    client.click("transfer_approve", request_id, user="U0SUP0001", channel="C0APPROVE")
    slack.wait_api("chat.update")
    assert slack.api_calls("users.info")[0]["user"] == ALICE
    assert_found_by_email(sim, "Alice@Example.com", alice.id)
    assert [(t.conversation_id, t.queue_id) for t in slack.wait_for(lambda: sim.transfers)] == [(call.id, tier2.id)]
    assert "waiting for a supervisor" in texts(slack.wait_responses(key))


def test_agent_email_form_needs_no_slack_lookup(sim, slack, client, org):
    tier1, tier2, alice = org
    call = sim.add_conversation("call", "connected", agent=alice, queue=tier1)

    _, key = client.command("agent:alice@example.com Support_Tier2", user=LEAD)

    slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")])
    assert slack.api_calls("users.info") == []
    assert_found_by_email(sim, "alice@example.com", alice.id)
    assert [(t.conversation_id, t.queue_id) for t in sim.transfers] == [(call.id, tier2.id)]


def test_no_live_call_says_so_and_sends_nothing(sim, slack, client, org):
    tier1, _, alice = org
    ended = sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    sim.end_conversation(ended.id)

    _, key = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)

    notice = slack.wait_responses(key)[0]
    assert notice["response_type"] == "ephemeral"
    assert f"<@{ALICE}> has no live call in Genesys right now" in notice["text"]
    assert_found_by_email(sim, "Alice@Example.com", alice.id)
    assert transfers(sim) == []
    assert sim.requests_matching("GET", r"/api/v2/conversations") == []


def test_me_with_no_live_call_speaks_to_the_requester(sim, slack, client, org):
    _, _, alice = org

    _, key = client.command("me Support_Tier2", user=ALICE)

    assert "You have no live call in Genesys right now" in slack.wait_responses(key)[0]["text"]
    assert_found_by_email(sim, "Alice@Example.com", alice.id)
    assert transfers(sim) == []


def test_several_calls_are_offered_and_only_the_picked_one_moves(sim, slack, client, org):
    tier1, tier2, alice = org
    billing = sim.add_queue("Billing")
    older = sim.add_conversation("call", "connected", agent=alice, queue=tier1, started_seconds_ago=600)
    newer = sim.add_conversation("call", "connected", agent=alice, queue=billing, started_seconds_ago=90)

    _, key = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)

    choice = slack.wait_responses(key)[0]
    assert choice["response_type"] == "ephemeral"
    assert f"<@{ALICE}> has 2 live calls" in choice["text"]
    buttons = {b["accessory"]["value"].split(":")[1]: b for b in choice["blocks"] if b.get("accessory")}
    assert set(buttons) == {older.id, newer.id}
    for call, queue, minutes in ((older, "Support_Tier1", range(5, 11)), (newer, "Billing", range(0, 2))):
        block = buttons[call.id]
        assert block["accessory"]["action_id"] == "transfer_pick_call"
        line = block["text"]["text"]
        assert call.id[:8] in line and queue in line
        going = re.search(r"going for (?:(\d+) min \d\d s|\d+ s)", line)  # how long, not when it started
        assert going and int(going.group(1) or 0) in minutes, line
        assert call.id[:8] in block["accessory"]["text"]["text"]
    assert "Nothing is transferred until you pick one" in json.dumps(choice["blocks"])
    time.sleep(0.5)
    assert transfers(sim) == [] and sim.transfers == []
    assert sim.requests_matching("GET", r"/api/v2/conversations") == []

    picked = buttons[newer.id]["accessory"]["value"]
    reply, pick_key = client.click("transfer_pick_call", picked, user=LEAD)

    assert reply.status == 200
    said = slack.wait_for(lambda: [r for r in slack.responses(pick_key) if "Transferred" in r.get("text", "")])
    assert said[0]["response_type"] == "in_channel"
    assert newer.id[:8] in said[0]["text"]
    assert "Picked call" in texts(slack.responses(pick_key))
    assert slack.responses(pick_key)[0]["replace_original"] is True  # the buttons are spent
    posts = transfers(sim)
    assert len(posts) == 1
    assert f"/conversations/{newer.id}/participants/{newer.agent_participant_id}/" in posts[0].path
    assert posts[0].json == {"queueId": tier2.id}
    assert [t.conversation_id for t in sim.transfers] == [newer.id]


def test_only_the_requester_can_pick(sim, slack, client, org):
    tier1, _, alice = org
    calls = [sim.add_conversation("call", "connected", agent=alice, queue=tier1) for _ in range(2)]
    _, key = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)
    value = next(b["accessory"]["value"] for b in slack.wait_responses(key)[0]["blocks"] if b.get("accessory"))

    _, other = client.click("transfer_pick_call", value, user="U0RANDOM1")

    assert "Only the person who asked" in slack.wait_responses(other)[0]["text"]
    time.sleep(0.3)
    assert transfers(sim) == [] and len(calls) == 2


def test_voice_call_is_picked_over_the_agents_chats_and_emails(sim, slack, client, org):
    tier1, tier2, alice = org
    chat = sim.add_conversation("chat", "connected", agent=alice, queue=tier1)
    email = sim.add_conversation("email", "connected", agent=alice, queue=tier1)
    call = sim.add_conversation("call", "connected", agent=alice, queue=tier1)

    _, key = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)

    result = slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")])[0]
    assert call.id[:8] in result["text"]
    assert chat.id[:8] not in texts(slack.responses(key)) and email.id[:8] not in texts(slack.responses(key))
    assert_found_by_email(sim, "Alice@Example.com", alice.id)
    read = [r.path for r in sim.requests_matching("GET", r"/api/v2/conversations")]
    assert read and all(call.id in p for p in read)
    assert [(t.conversation_id, t.queue_id) for t in sim.transfers] == [(call.id, tier2.id)]


def test_only_chats_and_emails_count_as_no_live_call(sim, slack, client, org):
    tier1, _, alice = org
    sim.add_conversation("chat", "connected", agent=alice, queue=tier1)
    sim.add_conversation("email", "connected", agent=alice, queue=tier1)

    _, key = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)

    assert "has no live call in Genesys right now" in slack.wait_responses(key)[0]["text"]
    assert transfers(sim) == []


def test_hidden_email_and_unknown_email_get_different_messages(sim, slack, client, org):
    slack.add_user(SlackUser("U0HIDDEN1", "hidden", "Hidden Person", email=None))
    slack.add_user(SlackUser("U0NOBODY1", "nobody", "Nobody Genesys", email="nobody@example.com"))

    _, hidden_key = client.command("<@U0HIDDEN1|hidden> Support_Tier2", user=LEAD)
    hidden = slack.wait_responses(hidden_key)[0]["text"]
    assert sim.requests_matching("POST", SEARCH) == []  # nothing to search Genesys with

    _, unknown_key = client.command("<@U0NOBODY1|nobody> Support_Tier2", user=LEAD)
    unknown = slack.wait_responses(unknown_key)[0]["text"]

    assert "can't see <@U0HIDDEN1>'s email address in Slack" in hidden
    assert "A Slack admin must give the bot the `users:read.email` scope" in hidden
    assert "No Genesys user has the email nobody@example.com" in unknown
    assert "<@U0NOBODY1>'s Slack email" in unknown
    assert "A Genesys admin must create that user" in unknown
    assert "Genesys admin" not in hidden and "Slack admin" not in unknown
    assert_found_by_email(sim, "nobody@example.com", None)
    assert [p["user"] for p in slack.api_calls("users.info")] == ["U0HIDDEN1", "U0NOBODY1"]
    assert transfers(sim) == []


def test_missing_users_search_permission_is_named(sim, slack, client, org):
    sim.inject(method="POST", path=SEARCH, status=403, code="missing.any.permissions",
               message="Unable to perform the requested action. You are missing the following permission(s): "
                       "[directory:user:view]", times=None)

    _, key = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)

    text = slack.wait_responses(key)[0]["text"]
    assert "refused permission while looking up the agent" in text
    assert "`directory:user:view`" in text
    refused = sim.requests_matching("POST", SEARCH)
    assert refused and refused[-1].status == 403 and refused[-1].correlation_id in text
    assert sim.requests_matching("POST", ACTIVITY) == [] and transfers(sim) == []


def test_missing_analytics_permission_for_the_activity_query_is_named(sim, slack, client, org):
    tier1, _, alice = org
    sim.add_conversation("call", "connected", agent=alice, queue=tier1)
    sim.inject(method="POST", path=ACTIVITY, status=403, code="missing.any.permissions",
               message="You are missing the following permission(s): [analytics:queueObservation:view]", times=None)

    _, key = client.command(f"<@{ALICE}|alice> Support_Tier2", user=LEAD)

    text = slack.wait_responses(key)[0]["text"]
    assert "refused permission while looking for the agent's live calls" in text
    assert "`analytics:queueObservation:view`" in text
    refused = sim.requests_matching("POST", ACTIVITY)
    assert refused and refused[-1].status == 403 and refused[-1].correlation_id in text
    assert transfers(sim) == []


def test_mention_without_escape_is_explained(sim, slack, client, org):
    """`should_escape: false` (an old manifest) sends `@alice`: the bot says how to fix it."""
    reply, _ = client.command("@alice Support_Tier2", user=LEAD)

    assert reply.status == 200
    assert "isn't a Slack mention I can read" in reply.json()["text"]
    assert re.search(r"agent:", reply.body)
    assert sim.requests_matching("POST", SEARCH) == [] and transfers(sim) == []
