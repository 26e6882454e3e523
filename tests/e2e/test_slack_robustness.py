"""Slack misbehaving on the way: 429 with Retry-After, 5xx, and answers lost after Slack acted.

An update is never lost (retried within a bound, then logged with the request id and picked up
again by the next sync), and a post Slack may already have made is looked up, never re-sent.
"""

from __future__ import annotations

import itertools
import json
import logging
import time

import pytest

REPLACE = r"/participants/[^/]+/replace/queue$"
REQUESTER = "U0AGENT01"
SUPERVISOR = "U0SUP0001"
APPROVAL_CHANNEL = "C0APPROVE"
FLOOR = "C0FLOOR01"
APPROVAL_ENV = {"TRANSFER_APPROVERS": SUPERVISOR, "TRANSFER_APPROVAL_CHANNEL": APPROVAL_CHANNEL}


@pytest.fixture
def bot(make_bot):
    client = make_bot(**APPROVAL_ENV)
    assert client.bot.runtime.genesys.wait_ready(90)  # the SDK import is slow on a loaded machine
    return client


def transfers(sim):
    return sim.requests_matching("POST", REPLACE)


def calls(slack, method):
    """(when Slack received it, arguments) for every call of `method`."""
    return [(r.at, r.payload) for r in list(slack.received) if r.kind == "api" and r.name == method]


def approval_messages(slack):
    return [m for m, _ in slack.timeline(APPROVAL_CHANNEL, SUPERVISOR) if m.user == slack.bot_user_id]


def ask(sim, slack, client):
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Alice")
    before = len(approval_messages(slack))
    reply, _ = client.command(f"{call.id} Billing", user=REQUESTER)
    assert reply.status == 200
    message = slack.wait_for(lambda: len(approval_messages(slack)) > before and approval_messages(slack))[before]
    return call, message.metadata["event_payload"]["request_id"], message


def shows(slack, message, text):
    current = slack.find_message(APPROVAL_CHANNEL, message.ts)
    return current is not None and text in json.dumps(current.blocks)


# ---- chat.update -----------------------------------------------------------------------------

def test_chat_update_waits_out_ratelimited_with_retry_after_and_lands(sim, slack, bot):
    _, request_id, message = ask(sim, slack, bot)
    slack.inject("chat.update", status=429, retry_after=2, times=2)

    bot.click("transfer_deny", request_id, user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    slack.wait_for(lambda: shows(slack, message, f"Denied by <@{SUPERVISOR}>"), timeout=20)
    attempts = [at for at, args in calls(slack, "chat.update") if args["ts"] == message.ts]
    assert len(attempts) == 3
    assert all(b - a >= 1.9 for a, b in itertools.pairwise(attempts))  # Retry-After: 2 honoured
    assert len(approval_messages(slack)) == 1


def test_chat_update_through_a_slack_outage_is_not_lost_and_the_failure_is_logged(sim, slack, bot, caplog):
    caplog.set_level(logging.WARNING)
    _, request_id, message = ask(sim, slack, bot)
    slack.inject("chat.update", status=500, times=5)  # more than one delivery's bounded attempts

    bot.click("transfer_approve", request_id, user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    slack.wait_for(lambda: shows(slack, message, "Transferred"), timeout=40)
    # Only this request's lines: a bot from an earlier test in this process may still be logging.
    gave_up = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage() and request_id in r.getMessage()]
    assert gave_up and "chat.update" in gave_up[0]
    assert any(request_id in r.getMessage() and "attempt" in r.getMessage() for r in caplog.records
               if r.name == "bot.slack.reconciler")
    assert 5 < len(calls(slack, "chat.update")) <= 12  # bounded retries, then the next sync
    assert len(transfers(sim)) == 1 and len(approval_messages(slack)) == 1


# ---- views.publish ---------------------------------------------------------------------------

@pytest.mark.parametrize("fault", [{"status": 429, "retry_after": 1}, {"status": 503}])
def test_views_publish_is_retried_after_ratelimited_or_a_server_error(sim, slack, bot, fault):
    slack.inject("views.publish", times=2, **fault)

    bot.home_opened(SUPERVISOR)

    view = slack.wait_for(lambda: slack.home(SUPERVISOR), timeout=20)
    assert "Waiting for a decision (0)" in json.dumps(view.spec["blocks"])
    attempts = [at for at, args in calls(slack, "views.publish")]
    assert len(attempts) == 3
    if fault["status"] == 429:
        assert all(b - a >= 0.9 for a, b in itertools.pairwise(attempts))


# ---- chat.postMessage whose answer was lost --------------------------------------------------------

@pytest.mark.parametrize("fault", [{"drop_connection": True}, {"status": 500}], ids=["dropped", "server-error"])
def test_approval_post_whose_answer_is_lost_is_found_not_posted_again(sim, slack, bot, fault):
    slack.inject("chat.postMessage", apply=True, **fault)  # Slack posts it, the answer never arrives

    _, request_id, message = ask(sim, slack, bot)

    history = slack.wait_api("conversations.history")
    assert history[0]["channel"] == APPROVAL_CHANNEL and str(history[0]["include_all_metadata"]).lower() in (
        "1", "true")
    bot.click("transfer_approve", request_id, user=SUPERVISOR, channel=APPROVAL_CHANNEL, message_ts=message.ts)
    slack.wait_for(lambda: shows(slack, message, "Transferred"), timeout=20)
    assert len(approval_messages(slack)) == 1
    assert [m for m in slack.api_calls("chat.postMessage") if not m.get("thread_ts")] == [
        slack.api_calls("chat.postMessage")[0]]
    assert {args["ts"] for _, args in calls(slack, "chat.update")} == {message.ts}
    assert len(transfers(sim)) == 1


def test_thread_reply_whose_answer_is_lost_is_found_not_posted_again(sim, slack, bot):
    _, request_id, message = ask(sim, slack, bot)
    slack.inject("chat.postMessage", apply=True, drop_connection=True)

    bot.click("transfer_deny", request_id, user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    slack.wait_api("conversations.replies", timeout=20)
    slack.wait_for(lambda: shows(slack, message, "Denied"))
    (_, replies), = [(m, r) for m, r in slack.timeline(APPROVAL_CHANNEL, SUPERVISOR) if m.ts == message.ts]
    assert len(replies) == 1 and f"<@{REQUESTER}>" in replies[0].text
    assert len([m for m in slack.api_calls("chat.postMessage") if m.get("thread_ts")]) == 1


def _transfer_losing_response_url_answers(sim, slack, make_bot, times: int) -> None:
    """A direct /transfer whose first `times` response_url posts are applied by Slack, then the answer is lost."""
    client = make_bot()
    assert client.bot.runtime.genesys.wait_ready(90)
    sim.add_queue("Support Tier 2")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Alice")
    url = slack.open_response_url(channel=FLOOR, user=REQUESTER, command_text=f"/transfer {call.id} Support Tier 2")
    slack.inject("response_url", apply=True, drop_connection=True, times=times)

    client.command(f"{call.id} Support Tier 2", user=REQUESTER, key=url.rsplit("/", 1)[1])


def test_direct_result_whose_response_url_answer_is_lost_is_not_posted_twice(sim, slack, make_bot):
    _transfer_losing_response_url_answers(sim, slack, make_bot, times=1)

    slack.wait_for(lambda: any("Transferred" in m.text for m, _ in slack.timeline(FLOOR, REQUESTER)), timeout=20)
    slack.wait_for(lambda: len(transfers(sim)) == 1)
    time.sleep(2.0)  # the sync that lost the answer has finished; nothing else may appear
    shown = [m for m, _ in slack.timeline(FLOOR, REQUESTER) if m.user == slack.bot_user_id and not m.ephemeral_to]
    assert len(shown) == 1 and "Transferred" in shown[0].text


def test_a_result_whose_answer_is_lost_twice_is_still_shown_once(sim, slack, make_bot):
    # The first post is lost after Slack showed it; its replacement is lost too. Replacing is
    # idempotent, so it is retried, never followed by a second message showing the result again.
    _transfer_losing_response_url_answers(sim, slack, make_bot, times=2)

    slack.wait_for(lambda: any("Transferred" in m.text for m, _ in slack.timeline(FLOOR, REQUESTER)), timeout=30)
    slack.wait_for(lambda: len(transfers(sim)) == 1)
    time.sleep(3.0)  # retries and fallbacks have finished; nothing else may appear
    shown = [m for m, _ in slack.timeline(FLOOR, REQUESTER) if m.user == slack.bot_user_id]
    assert len([m for m in shown if "Transferred" in m.text]) == 1, [m.text for m in shown]


def test_final_result_through_a_failing_response_url_is_retried_in_place_not_posted_anew(sim, slack, make_bot):
    client = make_bot()
    assert client.bot.runtime.genesys.wait_ready(90)
    sim.add_queue("Support Tier 2")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Alice")
    sim.set_transfer_outcome(call.id, "complete", delay=5)
    url = slack.open_response_url(channel=FLOOR, user=REQUESTER, command_text=f"/transfer {call.id} Support Tier 2")
    key = url.rsplit("/", 1)[1]

    client.command(f"{call.id} Support Tier 2", user=REQUESTER, key=key)
    slack.wait_responses(key)  # "sent; waiting for Genesys to confirm" is showing
    slack.inject("response_url", status=500, times=4)  # the replacement meets a Slack outage

    slack.wait_for(lambda: any("Transferred" in m.text for m, _ in slack.timeline(FLOOR, REQUESTER)), timeout=40)
    time.sleep(1.0)
    shown = [m for m, _ in slack.timeline(FLOOR, REQUESTER) if m.user == slack.bot_user_id and not m.ephemeral_to]
    assert len(shown) == 1 and "Transferred" in shown[0].text and "waiting for Genesys" not in shown[0].text
    assert slack.api_calls("chat.postMessage") == []
    assert len(transfers(sim)) == 1


def test_home_refresh_that_meets_a_slack_outage_is_published_later_not_lost(sim, slack, bot, caplog):
    caplog.set_level(logging.WARNING)
    bot.home_opened(SUPERVISOR)
    slack.wait_for(lambda: slack.home(SUPERVISOR))
    time.sleep(1.1)  # past the once-a-second window
    slack.inject("views.publish", status=500, times=4)  # more than one publish's bounded attempts

    _, request_id, _ = ask(sim, slack, bot)

    slack.wait_for(lambda: request_id in json.dumps(slack.home(SUPERVISOR).spec["blocks"]), timeout=30)
    assert len(calls(slack, "views.publish")) <= 8
    failed = [r.getMessage() for r in caplog.records if "views.publish" in r.getMessage()]
    assert failed and all(request_id in line for line in failed)


def test_approval_messages_all_reach_their_ending_under_slacks_rate_limit_for_chat_update(sim, slack, bot):
    asked = [ask(sim, slack, bot) for _ in range(4)]
    slack.set_rate_limit("chat.update", 60, burst=1)  # Slack answers ratelimited + Retry-After beyond it

    for _, request_id, _ in asked:
        bot.click("transfer_approve", request_id, user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    for _, _, message in asked:
        slack.wait_for(lambda message=message: shows(slack, message, "Transferred"), timeout=60)
    assert len(transfers(sim)) == 4 and len(approval_messages(slack)) == 4
    ratelimited = [at for at, _ in calls(slack, "chat.update")]
    assert len(ratelimited) > 4  # some were refused and retried


# ---- the ack path makes no Slack call --------------------------------------------------------


def test_the_first_command_after_start_is_acked_even_when_slack_auth_test_fails_then(sim, slack, bot):
    # Readiness already learned who the bot is; Bolt must not call auth.test again on the ack path
    # (its single-team middleware did, and answered 500 when Slack failed it).
    assert bot.bot.runtime.slack.identity.known is not None
    slack.inject("auth.test", status=500, times=None)
    auth_tests = len(calls(slack, "auth.test"))
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Alice")

    reply, _ = bot.command(f"{call.id} Billing", user=SUPERVISOR)  # an approver: runs directly

    assert reply.status == 200 and "Working on it" in reply.body
    sim_wait = time.monotonic() + 30
    while not transfers(sim) and time.monotonic() < sim_wait:
        time.sleep(0.05)
    assert len(transfers(sim)) == 1
    assert len(calls(slack, "auth.test")) == auth_tests
