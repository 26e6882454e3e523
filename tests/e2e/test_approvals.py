"""Supervisor approvals end to end: signed clicks, the simulator, the fake Slack, a real database."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.kit.bots import ROOT, BotProcess, InProcessBot
from tests.kit.env import bot_env
from tests.kit.net import free_port
from tests.kit.slack_client import SlackClientSide

REPLACE = r"/participants/[^/]+/replace/queue$"
REQUESTER = "U0AGENT01"
SUPERVISOR = "U0SUP0001"
GROUP_SUPERVISOR = "U0SUP0002"
OUTSIDER = "U0RANDOM1"
APPROVAL_CHANNEL = "C0APPROVE"
APPROVAL_ENV = {
    "TRANSFER_APPROVERS": f"{SUPERVISOR},S0LEADS",
    "TRANSFER_APPROVAL_CHANNEL": APPROVAL_CHANNEL,
    "TRANSFER_NO_APPROVAL_QUEUES": "Support_Tier1",
}


@pytest.fixture
def approvals(make_bot, slack):
    slack.usergroups["S0LEADS"] = [GROUP_SUPERVISOR]
    return make_bot(**APPROVAL_ENV)


def transfers(sim):
    return sim.requests_matching("POST", REPLACE)


def ask(sim, slack, client, queue_name="Billing", user=REQUESTER):
    """A requester asks for a transfer that needs approval; returns (call, queue, request_id, approval post)."""
    queue = sim.add_queue(queue_name)
    call = sim.add_call(scenario="connected", queue=sim.add_queue(f"Sales-{time.monotonic_ns()}"), agent_name="Ann")
    before = len(slack.api_calls("chat.postMessage"))
    reply, key = client.command(f"{call.id} {queue_name}", user=user)
    assert reply.status == 200
    notice = slack.wait_responses(key)[0]
    post = slack.wait_api("chat.postMessage", before + 1)[before]
    request_id = post["blocks"][2]["elements"][0]["value"]
    assert notice["response_type"] == "ephemeral"
    assert f"<#{APPROVAL_CHANNEL}>" in notice["text"]
    assert notice["blocks"][1]["elements"][0]["action_id"] == "transfer_cancel"
    return call, queue, request_id, post


def updates(slack):
    return slack.api_calls("chat.update")


def thread_replies(slack):
    return [m for m in slack.api_calls("chat.postMessage") if m.get("thread_ts")]


def test_request_shows_snapshot_and_buttons_and_waits(sim, slack, approvals):
    call, _, _, post = ask(sim, slack, approvals)

    assert post["channel"] == APPROVAL_CHANNEL
    text = json.dumps(post["blocks"])
    assert f"<@{REQUESTER}>" in text and "*Billing*" in text
    assert "Ann" in text and call.id[:8] in text and "Call going for" in text
    assert "Queue at request time:* Sales-" in text
    assert [e["action_id"] for e in post["blocks"][2]["elements"]] == ["transfer_approve", "transfer_deny"]
    assert transfers(sim) == []


def test_approve_transfers_once_and_updates_the_message(sim, slack, approvals):
    call, queue, request_id, _ = ask(sim, slack, approvals)

    reply, key = approvals.click("transfer_approve", request_id, user=SUPERVISOR, channel=APPROVAL_CHANNEL)

    assert reply.status == 200
    update = slack.wait_api("chat.update")[0]
    assert update["channel"] == APPROVAL_CHANNEL
    assert "actions" not in [b["type"] for b in update["blocks"]]
    text = json.dumps(update["blocks"])
    assert "Transferred:" in text and f"Approved by <@{SUPERVISOR}>" in text
    reply_to_requester = slack.wait_for(lambda: thread_replies(slack))[0]
    assert f"<@{REQUESTER}>" in reply_to_requester["text"] and "Transferred" in reply_to_requester["text"]
    assert "Approved" in slack.wait_responses(key)[0]["text"]
    posts = transfers(sim)
    assert len(posts) == 1 and call.agent_participant_id in posts[0].path and posts[0].json == {"queueId": queue.id}


def test_group_member_can_deny_and_nothing_is_transferred(sim, slack, approvals):
    _, _, request_id, _ = ask(sim, slack, approvals)

    approvals.click("transfer_deny", request_id, user=GROUP_SUPERVISOR, channel=APPROVAL_CHANNEL)

    update = slack.wait_api("chat.update")[0]
    assert "Denied" in update["text"] or "Denied" in json.dumps(update["blocks"])
    assert f"Denied by <@{GROUP_SUPERVISOR}>" in json.dumps(update["blocks"])
    assert "Denied" in slack.wait_for(lambda: thread_replies(slack))[0]["text"]
    assert slack.api_calls("usergroups.users.list")[0]["usergroup"] == "S0LEADS"
    assert transfers(sim) == []


def test_requester_can_cancel_but_nobody_else(sim, slack, approvals):
    _, _, request_id, _ = ask(sim, slack, approvals)

    _, other = approvals.click("transfer_cancel", request_id, user=SUPERVISOR)
    assert "Only the person who asked" in slack.wait_responses(other)[0]["text"]
    assert updates(slack) == []

    _, mine = approvals.click("transfer_cancel", request_id, user=REQUESTER)

    response = slack.wait_responses(mine)[0]
    assert response["replace_original"] is True and "Cancelled" in response["text"]
    assert "Cancelled by the requester" in json.dumps(slack.wait_api("chat.update")[0]["blocks"])
    assert transfers(sim) == []


def test_outsider_and_requester_cannot_approve(sim, slack, approvals):
    _, _, request_id, _ = ask(sim, slack, approvals)

    _, outsider = approvals.click("transfer_approve", request_id, user=OUTSIDER)
    _, own = approvals.click("transfer_approve", request_id, user=REQUESTER)

    assert "only configured transfer approvers" in slack.wait_responses(outsider)[0]["text"]
    assert "your own request" in slack.wait_responses(own)[0]["text"]
    assert slack.wait_responses(outsider)[0]["response_type"] == "ephemeral"
    time.sleep(0.3)
    assert updates(slack) == [] and transfers(sim) == []
    approvals.click("transfer_approve", request_id, user=SUPERVISOR)
    slack.wait_api("chat.update")
    assert len(transfers(sim)) == 1


@pytest.mark.parametrize(("change", "reason"), [("end", "already ended"), ("agent", "agent on the call changed")])
def test_call_that_changed_while_pending_is_superseded(sim, slack, approvals, change, reason):
    call, _, request_id, _ = ask(sim, slack, approvals)
    if change == "end":
        sim.end_call(call.id)
    else:
        sim.change_agent(call.id, agent_name="Bob")

    approvals.click("transfer_approve", request_id, user=SUPERVISOR)

    blocks = json.dumps(slack.wait_api("chat.update")[0]["blocks"])
    assert "the call changed before approval" in blocks and reason in blocks
    assert reason in slack.wait_for(lambda: thread_replies(slack))[0]["text"]
    assert transfers(sim) == []


def test_double_click_executes_once_and_the_second_click_is_told(sim, slack, approvals):
    _, _, request_id, _ = ask(sim, slack, approvals)

    with ThreadPoolExecutor(4) as pool:
        clicks = list(pool.map(
            lambda user: approvals.click("transfer_approve", request_id, user=user),
            [SUPERVISOR, SUPERVISOR, GROUP_SUPERVISOR, SUPERVISOR],
        ))

    assert all(reply.status == 200 for reply, _ in clicks)
    slack.wait_api("chat.update")
    texts = [slack.wait_responses(key)[0]["text"] for _, key in clicks]
    time.sleep(0.5)
    assert len(transfers(sim)) == 1
    assert len(updates(slack)) == 1
    assert sum("already approved" in t for t in texts) == 3


def test_expired_request_is_swept_and_stale_clicks_are_told(sim, slack, make_bot):
    slack.usergroups["S0LEADS"] = []
    client = make_bot(**APPROVAL_ENV, TRANSFER_APPROVAL_TTL_SECONDS="1")
    _, _, request_id, _ = ask(sim, slack, client)

    update = slack.wait_api("chat.update", timeout=10)[0]

    assert "Expired" in json.dumps(update["blocks"])
    assert "Expired" in slack.wait_for(lambda: thread_replies(slack))[0]["text"]
    _, key = client.click("transfer_approve", request_id, user=SUPERVISOR)
    assert "already expired" in slack.wait_responses(key)[0]["text"]
    assert transfers(sim) == []


def test_stale_button_after_approval_says_who_and_when(sim, slack, approvals):
    _, _, request_id, _ = ask(sim, slack, approvals)
    approvals.click("transfer_approve", request_id, user=SUPERVISOR)
    slack.wait_api("chat.update")

    _, key = approvals.click("transfer_deny", request_id, user=GROUP_SUPERVISOR)

    text = slack.wait_responses(key)[0]["text"]
    assert f"already approved and transferred by <@{SUPERVISOR}> at " in text and " UTC" in text
    assert len(transfers(sim)) == 1


def test_approvers_and_exempt_queues_transfer_directly(sim, slack, approvals):
    own = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    sim.add_queue("Billing")
    _, key = approvals.command(f"{own.id} Billing", user=SUPERVISOR)
    assert slack.wait_responses(key)[0]["response_type"] == "in_channel"

    exempt = sim.add_call(scenario="connected", queue=sim.add_queue("Sales2"))
    sim.add_queue("Support_Tier1")
    _, key = approvals.command(f"{exempt.id} support_tier1", user=REQUESTER)
    assert "Transferred" in slack.wait_responses(key)[0]["text"]
    assert len(transfers(sim)) == 2
    assert slack.api_calls("chat.postMessage") == []


def test_second_request_for_the_same_call_is_refused_while_pending(sim, slack, approvals):
    call, _, _, _ = ask(sim, slack, approvals)

    _, key = approvals.command(f"{call.id} Billing", user="U0AGENT02")

    assert "already waiting for approval" in slack.wait_responses(key)[0]["text"]
    assert len(slack.api_calls("chat.postMessage")) == 1


def test_request_survives_a_restart_and_the_audit_shows_every_step(sim, slack, tmp_path):
    slack.usergroups["S0LEADS"] = []
    env = bot_env(slack, sim, f"sqlite:///{tmp_path / 'restart.db'}", **APPROVAL_ENV)
    first = InProcessBot(env)
    _, _, request_id, _ = ask(sim, slack, SlackClientSide(slack, "127.0.0.1", first.port))
    first.stop()

    second = InProcessBot(env)
    try:
        SlackClientSide(slack, "127.0.0.1", second.port).click("transfer_approve", request_id, user=SUPERVISOR)
        assert "Transferred" in json.dumps(slack.wait_api("chat.update")[0]["blocks"])
    finally:
        second.stop()
    assert len(transfers(sim)) == 1

    audit = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "--since", "1h", "--format", "json"], cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": env["DATABASE_URL"]}, capture_output=True, text=True,
        timeout=60,
    )
    events = [e for e in json.loads(audit.stdout) if e["request_id"] == request_id]
    assert [(e["from_state"], e["to_state"]) for e in events] == [
        (None, "received"), ("received", "pending"), ("pending", "approved"), ("approved", "executing"),
        ("executing", "accepted"), ("accepted", "succeeded"),
    ]
    assert events[0]["actor"] == REQUESTER and events[2]["actor"] == SUPERVISOR
    assert {(e["target_kind"], e["target_name"], e["via"]) for e in events[1:]} == {("queue", "Billing", "slack")}
    assert events[1]["direct"] is False and events[1]["reason"].startswith("needs approval")
    assert events[-1]["correlation_id"] == transfers(sim)[0].correlation_id


def test_expiry_still_happens_after_a_restart(sim, slack, tmp_path):
    slack.usergroups["S0LEADS"] = []
    env = bot_env(slack, sim, f"sqlite:///{tmp_path / 'ttl.db'}", **APPROVAL_ENV, TRANSFER_APPROVAL_TTL_SECONDS="1")
    first = InProcessBot(env, sweep_interval=3600)  # sweeps once at start, then not again before it stops
    ask(sim, slack, SlackClientSide(slack, "127.0.0.1", first.port))
    first.stop()
    time.sleep(1.2)
    assert updates(slack) == []

    second = InProcessBot(env)
    try:
        update = slack.wait_api("chat.update", timeout=10)[0]
    finally:
        second.stop()
    assert "Expired" in json.dumps(update["blocks"])
    assert transfers(sim) == []


@pytest.mark.postgres
def test_twenty_clicks_across_two_processes_sharing_postgres_transfer_once(sim, slack, isolated_postgres_url, tmp_path):
    slack.usergroups["S0LEADS"] = [GROUP_SUPERVISOR]
    env = bot_env(slack, sim, isolated_postgres_url, **APPROVAL_ENV)
    bots = [BotProcess(env, port=free_port(), log_path=tmp_path / f"bot{i}.log") for i in range(2)]
    try:
        for bot in bots:
            bot.wait_ready(timeout=120)  # readiness: the Genesys SDK is loaded and logged in
        clients = [SlackClientSide(slack, "127.0.0.1", bot.port) for bot in bots]
        _, _, request_id, _ = ask(sim, slack, clients[0])

        start = threading.Barrier(20)

        def click(i):
            start.wait()
            return clients[i % 2].click("transfer_approve", request_id, user=[SUPERVISOR, GROUP_SUPERVISOR][i % 2])

        with ThreadPoolExecutor(20) as pool:
            clicks = list(pool.map(click, range(20)))
        assert all(reply.status == 200 for reply, _ in clicks)
        texts = [slack.wait_responses(key, timeout=30)[0]["text"] for _, key in clicks]
        slack.wait_api("chat.update", timeout=30)
        time.sleep(1.0)
    finally:
        for bot in bots:
            bot.stop()
    assert len([r for r in transfers(sim) if r.status == 202]) == 1
    assert len(sim.transfers) == 1
    assert len(updates(slack)) == 1
    assert sum("already approved" in t for t in texts) == 19


def test_approval_message_that_cannot_be_posted_is_reported_and_leaves_nothing_open(sim, slack, approvals):
    slack.failures["chat.postMessage"] = "not_in_channel"
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))

    _, key = approvals.command(f"{call.id} Billing", user=REQUESTER)

    text = slack.wait_responses(key)[0]["text"]
    assert "couldn't post the approval request" in text and "not_in_channel" in text
    assert "Invite the bot" in text
    del slack.failures["chat.postMessage"]
    _, again = approvals.command(f"{call.id} Billing", user=REQUESTER)
    assert "waiting for a supervisor" in slack.wait_responses(again)[0]["text"]
    assert transfers(sim) == []
