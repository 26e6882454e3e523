"""The approval policy file (TRANSFER_POLICY_FILE) driving the bot end to end: the two-person rule,
break glass, the most specific rule, `direct: ["*"]`, and a file with errors stopping `python app.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import PureCloudPlatformClientV2  # noqa: F401 - the SDK takes seconds to import on a busy machine: pay it here, once
import pytest

from tests.kit.bots import ROOT
from tests.kit.env import bot_env

QUEUE_REPLACE = r"/participants/[^/]+/replace/queue$"
ANY_TRANSFER = r"/participants/[^/]+/(replace(/queue|/agent)?|transfer)$"
REQUESTER = "U0AGENT01"
OUTSIDER = "U0RANDOM1"
SAM = "U0SAM0001"  # a supervisor named in the rules
PAT = "U0PAT0001"  # PAT and LEE: members of the S0SUP user group
LEE = "U0LEE0001"
APPROVAL_CHANNEL = "C0APPROVE"
FLOOR = "C0FLOOR01"

POLICY = f"""\
# Anyone may move chats to Support; numbers always need a supervisor; Escalations needs two approvers.
rules:
  - kind: queue
    target: "Escalations"
    direct: []
    approvers: [{SAM}, S0SUP]
    approvals_required: 2
    break_glass: true
  - kind: queue
    target: "Billing"
    approvers: [{SAM}, S0SUP]
    approvals_required: 2
    break_glass: false
  - kind: queue
    target: "Support"
    direct: ["*"]
    media: [chat]
  - kind: queue
    target: "*"
    approvers: [{SAM}]
  - kind: number
    target: "*"
    approvers: [S0SUP]
"""


def sent(sim, path=ANY_TRANSFER) -> list:
    return sim.requests_matching("POST", path)


def shown(message: dict) -> str:
    return (message.get("text") or "") + json.dumps(message.get("blocks") or [], ensure_ascii=False)


def request_id_of(post: dict) -> str:
    actions = next(b for b in post["blocks"] if b["type"] == "actions")
    return actions["elements"][0]["value"]


def approval_posts(slack) -> list[dict]:
    posts = slack.api_calls("chat.postMessage")
    return [m for m in posts if m["channel"] == APPROVAL_CHANNEL and not m.get("thread_ts")]


def votes_line(message: dict) -> str:
    """The "n of m approvals: …" section of an approval message."""
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    return next(t for t in texts if " approvals: " in t)


@pytest.fixture
def policy_env(slack, tmp_path) -> dict[str, str]:
    slack.usergroups["S0SUP"] = [PAT, LEE]
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return {
        "TRANSFER_POLICY_FILE": str(path),
        "TRANSFER_APPROVERS": SAM,
        "TRANSFER_APPROVAL_CHANNEL": APPROVAL_CHANNEL,
        "TRANSFER_EXTERNAL_PREFIXES": "+1",
    }


@pytest.fixture
def bot(make_bot, policy_env):
    return make_bot(**policy_env)


def ask(sim, slack, client, queue_name: str, *, user: str = REQUESTER, media: str = "call"):
    """A transfer the policy sends for approval; returns (conversation, queue, request id, approval post)."""
    queue = sim.add_queue(queue_name)
    conversation = sim.add_conversation(media, "connected", queue=sim.add_queue(f"From-{time.monotonic_ns()}"))
    before = len(approval_posts(slack))
    _, key = client.command(f"{conversation.id} {queue_name}", user=user)
    post = slack.wait_for(lambda: len(approval_posts(slack)) > before and approval_posts(slack))[before]
    assert "waiting for a supervisor's approval" in slack.wait_responses(key)[0]["text"]
    return conversation, queue, request_id_of(post), post


def click(client, request_id: str, user: str) -> str:
    """Approve as `user`; the private reply they got."""
    _, key = client.click("transfer_approve", request_id, user=user, channel=APPROVAL_CHANNEL)
    return client.slack.wait_responses(key)[0]["text"]


def updates_with(slack, text: str) -> list[dict]:
    return [u for u in slack.api_calls("chat.update") if text in shown(u)]


def audit(database_url: str) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "--since", "1h", "--format", "json"], cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# ---- the two-person rule ---------------------------------------------------------------------------


def test_first_approval_is_a_vote_and_a_double_click_by_the_same_approver_counts_once(sim, slack, bot):
    _, queue, request_id, post = ask(sim, slack, bot, "Escalations")
    assert "Needs 2 approvals" in shown(post)

    with ThreadPoolExecutor(2) as pool:  # Sam's double click: both arrive at once
        replies = list(pool.map(lambda _: click(bot, request_id, SAM), range(2)))

    assert sum("Your approval is recorded (1 of 2)" in r for r in replies) == 1
    assert sum("already approved this request" in r for r in replies) == 1
    vote_update = slack.wait_for(lambda: updates_with(slack, "1 of 2 approvals"))[-1]
    assert votes_line(vote_update) == f"1 of 2 approvals: <@{SAM}>"
    assert "2 of 2" not in json.dumps(slack.api_calls("chat.update"))
    assert any(b["type"] == "actions" for b in vote_update["blocks"])  # still open
    assert sent(sim) == []

    assert "already approved this request" in click(bot, request_id, SAM)  # a later third click: still one
    time.sleep(0.3)
    assert sent(sim) == []

    assert "Approved." in click(bot, request_id, PAT)

    final = slack.wait_for(lambda: updates_with(slack, "Transferred"))[-1]
    assert f"Approved by <@{PAT}>" in shown(final)
    assert "actions" not in [b["type"] for b in final["blocks"]]
    posts = sent(sim)
    assert len(posts) == 1 and posts[0].json == {"queueId": queue.id}
    events = [e for e in audit(bot.bot.settings.database_url) if e["request_id"] == request_id]
    assert [(e["kind"], e["actor"]) for e in events if e["kind"] == "vote"] == [("vote", SAM), ("vote", PAT)]


def test_concurrent_second_approvals_by_two_approvers_transfer_exactly_once(sim, slack, bot):
    _, queue, request_id, _ = ask(sim, slack, bot, "Escalations")
    assert "1 of 2" in click(bot, request_id, SAM)
    start = threading.Barrier(2)

    def second(user):
        start.wait()
        return click(bot, request_id, user)

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(second, [PAT, LEE]))

    assert sum(r.startswith("Approved.") for r in replies) == 1
    assert sum("already approved" in r for r in replies) == 1
    slack.wait_for(lambda: updates_with(slack, "Transferred"))
    time.sleep(0.5)
    assert [p.json for p in sent(sim) if p.status == 202] == [{"queueId": queue.id}]
    assert len(sim.transfers) == 1
    assert len(updates_with(slack, "Transferred")) == 1


def test_self_approval_never_counts_even_for_an_approver_of_the_rule(sim, slack, bot):
    _, queue, request_id, post = ask(sim, slack, bot, "Escalations", user=PAT)  # PAT approves Escalations
    assert "Needs 2 approvals" in shown(post)

    assert "your own request" in click(bot, request_id, PAT)
    assert "1 of 2" in click(bot, request_id, SAM)
    time.sleep(0.3)
    assert sent(sim) == []
    assert votes_line(slack.wait_for(lambda: updates_with(slack, "1 of 2 approvals"))[-1]) == \
        f"1 of 2 approvals: <@{SAM}>"

    assert "Approved." in click(bot, request_id, LEE)

    slack.wait_for(lambda: updates_with(slack, "Transferred"))
    assert [p.json for p in sent(sim)] == [{"queueId": queue.id}]


# ---- break glass -------------------------------------------------------------------------------------


def test_break_glass_by_an_approver_runs_at_once_is_audited_and_announced(sim, slack, bot):
    queue = sim.add_queue("Escalations")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Ann")

    reply, key = bot.command(f"--now {call.id} Escalations", user=SAM)

    assert "break glass" in reply.body
    result = slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")])[0]
    assert result["response_type"] == "in_channel"
    assert "Break glass" in shown(result)
    notice = slack.wait_for(lambda: [m for m in approval_posts(slack) if "Break glass" in shown(m)])[0]
    assert f"<@{SAM}> used `/transfer --now`" in shown(notice)
    assert call.id[:8] in shown(notice) and "Escalations" in shown(notice)
    assert [p.json for p in sent(sim)] == [{"queueId": queue.id}]
    assert sent(sim)[0].path.endswith(f"/participants/{call.agent_participant_id}/replace/queue")
    assert not [m for m in approval_posts(slack) if "transfer_approve" in json.dumps(m["blocks"])]  # no vote asked

    events = [e for e in audit(bot.bot.settings.database_url) if e["conversation_id"] == call.id]
    assert events and all(e["break_glass"] is True for e in events if e["to_state"] != "received")
    approved = next(e for e in events if e["to_state"] == "approved")
    assert approved["reason"] == "break glass" and approved["actor"] == SAM and approved["direct"] is True
    assert events[-1]["to_state"] == "succeeded"


@pytest.mark.parametrize(("user", "queue_name"), [
    (SAM, "Billing"),  # Sam approves Billing, but its rule doesn't allow break glass
    (REQUESTER, "Escalations"),  # the rule allows it, but only for its approvers
    (OUTSIDER, "Sales"),  # no rule but the "*" one, which doesn't allow it
])
def test_break_glass_is_refused_where_the_rule_or_the_person_does_not_allow_it(sim, slack, bot, user, queue_name):
    sim.add_queue(queue_name)
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales-from"))

    _, key = bot.command(f"--now {call.id} {queue_name}", user=user)

    message = slack.wait_responses(key)[0]
    assert message["response_type"] == "ephemeral"
    assert "can't use `--now`" in message["text"]
    time.sleep(0.3)
    assert sent(sim) == []
    assert approval_posts(slack) == []


# ---- which rule applies ----------------------------------------------------------------------------


def test_the_most_specific_rule_wins_and_direct_star_lets_anyone(sim, slack, bot):
    support = sim.add_queue("Support")
    chat = sim.add_conversation("chat", "connected", queue=sim.add_queue("Web"))

    _, key = bot.command(f"{chat.id} support", user=OUTSIDER)  # "Support" for chats: direct: ["*"]

    result = slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")])[0]
    assert result["response_type"] == "in_channel" and "chat `" in result["text"]
    assert [p.json for p in sent(sim)] == [{"queueId": support.id}]
    assert approval_posts(slack) == []

    # A call to Support matches only the "*" rule: one approval, by Sam.
    _, _, request_id, post = ask(sim, slack, bot, "Support", user=OUTSIDER)
    assert "Needs 2 approvals" not in shown(post) and "*Support*" in shown(post)
    assert "only configured transfer approvers" in click(bot, request_id, PAT)
    assert "Approved." in click(bot, request_id, SAM)
    slack.wait_for(lambda: updates_with(slack, "Transferred"))
    assert len(sent(sim)) == 2

    # Escalations: the exact rule beats "*", so Sam's approval alone is only a vote.
    _, _, escalation, post = ask(sim, slack, bot, "Escalations", user=OUTSIDER)
    assert "Needs 2 approvals" in shown(post)
    assert "1 of 2" in click(bot, escalation, SAM)
    time.sleep(0.3)
    assert len(sent(sim)) == 2


def test_number_rule_names_its_own_approvers(sim, slack, bot):
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    before = len(approval_posts(slack))

    bot.command(f"{call.id} +1 415 555 0100", user=REQUESTER)

    post = slack.wait_for(lambda: len(approval_posts(slack)) > before and approval_posts(slack))[before]
    assert "+1 415 ••• 0100" in shown(post) and "4155550100" not in shown(post)
    request_id = request_id_of(post)
    assert "only configured transfer approvers" in click(bot, request_id, SAM)  # the default approver isn't one
    assert "Approved." in click(bot, request_id, LEE)
    slack.wait_for(lambda: updates_with(slack, "Transferred"))
    assert [p.json for p in sent(sim)] == [{"address": "+14155550100"}]


# ---- a policy file with errors -------------------------------------------------------------------------

BROKEN = """\
rules:
  - kind: queues
    target: "Escalations"
    approvals_required: 3
  - kind: number
    target: "44"
    approvers: [sam, U0SAM0001]
    break_glass: "yes"
    colour: red
  - kind: agent
    target: "bob"
"""


def test_policy_file_with_errors_lists_every_problem_and_exits_2(sim, slack, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(BROKEN, encoding="utf-8")
    env = {
        **bot_env(slack, sim, f"sqlite:///{tmp_path / 'bot.db'}"),
        "TRANSFER_POLICY_FILE": str(policy), "TRANSFER_EXTERNAL_PREFIXES": "44",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": "0",
    }

    done = subprocess.run([sys.executable, str(ROOT / "app.py"), "--http"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 2, done.stdout + done.stderr
    out = done.stdout + done.stderr
    for expected in [
        "policy.yaml rule 1: kind must be queue, agent or number, got 'queues'",
        "policy.yaml rule 1: approvals_required must be 1 or 2, got 3",
        "policy.yaml rule 2: a number target is a prefix such as +44 or +1415, got '44'",
        "policy.yaml rule 2: approvers: 'sam' is not a Slack user",
        "policy.yaml rule 2: break_glass must be true or false, got 'yes'",
        "policy.yaml rule 2: unknown key 'colour'",
        "policy.yaml rule 3: an agent target is an email address, got 'bob'",
        "TRANSFER_EXTERNAL_PREFIXES has '44'",
    ]:
        assert expected in out, out
    assert "Traceback" not in out
    assert sim.requests == []
    assert slack.received == []
    assert not (tmp_path / "bot.db").exists()
