"""The operator command line (`python -m bot`) as an operator runs it: its own OS process, next to a
running bot that shares the database, against a simulator started here.

Issue 8, bug 1: a command-line transfer must never leave a request nobody can see or cancel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.kit.bots import ROOT

APPROVER = "U0LEAD001"
REQUESTER = "U0AGENT01"
OPERATOR = "opsalice"
REPLACE = r"/participants/[^/]+/replace/queue$"


def cli_env(sim=None, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """A clean environment: no settings leak in from the test run, the worktree's code, a known user."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_", "DATABASE_", "LOG_"))}
    env.update(PYTHONPATH=str(ROOT), USER=OPERATOR, LOGNAME=OPERATOR, PYTHONUNBUFFERED="1")
    if sim is not None:
        env.update(GENESYS_CLOUD_API_HOST=sim.url, GENESYS_CLOUD_CLIENT_ID=sim.client_id,
                   GENESYS_CLOUD_CLIENT_SECRET=sim.client_secret, GENESYS_READ_TIMEOUT="2",
                   GENESYS_CONNECT_TIMEOUT="1", GENESYS_REQUEST_DEADLINE="4")
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=90)


def audit_rows(env: dict[str, str], cwd: Path, *extra: str) -> list[dict]:
    done = run_cli(["audit", "--since", "1h", "--format", "json", *extra], env, cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def eventually(predicate, timeout: float = 40.0, what: str = "condition"):
    """Poll `predicate` (every 0.2 s) until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {timeout} s")


def request_id_from(stdout: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in stdout.splitlines() if line.startswith("Request id:"))


def slack_calls_about(slack, who: str) -> list:
    """Web API calls that tried to reach `who` (a command-line operator is nobody in Slack)."""
    return [r for r in slack.received if r.kind == "api" and who in json.dumps(r.payload)]


def assert_plain_terminal_text(text: str) -> None:
    """Slack mrkdwn has no place in a terminal."""
    for markup in ("`", "*", "<@", "<#", "&lt;", "&gt;", "&amp;", ":warning:"):
        assert markup not in text, f"Slack markup {markup!r} in {text!r}"


def test_cli_transfer_runs_directly_as_the_operator_and_slack_can_transfer_the_call_next(
        sim, slack, make_bot, tmp_path):
    sales, support = sim.add_queue("Sales"), sim.add_queue("Support")
    sim.add_user("Sam Sales", "sam@example.com", queues=[sales])  # IDLE: picks up the transferred call
    sim.set_auto_answer(0.1)
    call = sim.add_call(scenario="connected", queue=support, agent_name="Ann")
    client = make_bot(TRANSFER_APPROVERS=APPROVER)  # approvals on: a Slack request from a non-approver waits
    database = client.bot.settings.database_url
    env = cli_env(sim, database, TRANSFER_APPROVERS=APPROVER, GENESYS_READ_TIMEOUT="25",
                  GENESYS_REQUEST_DEADLINE="30")
    # A slow Genesys: the command works longer than a request's lease (15 s). The running bot must not
    # take it for the work of a dead process and re-run it under Slack's rules.
    sim.inject(method="GET", path=call.id, status=None, delay=17.0, times=1)

    done = run_cli(["transfer", call.id, "Sales"], env, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Transferred: call {call.id} → Sales" in done.stdout
    assert "approval" not in (done.stdout + done.stderr).lower()
    assert_plain_terminal_text(done.stdout + done.stderr)
    assert [(t.conversation_id, t.queue_id) for t in sim.transfers] == [(call.id, sales.id)]
    request_id = request_id_from(done.stdout)
    events = [e for e in audit_rows(env, tmp_path) if e["request_id"] == request_id]
    assert [e["to_state"] for e in events] == ["received", "approved", "executing", "accepted", "succeeded"]
    assert {e["actor"] for e in events[:2]} == {f"cli:{OPERATOR}"}
    assert events[1]["reason"] == "operator command line"
    assert all(e["via"] == "cli" and e["direct"] is True for e in events)
    assert {(e["target_kind"], e["target_id"], e["target_name"]) for e in events[1:]} == {("queue", sales.id, "Sales")}

    # Nothing is left waiting: an approver's Slack /transfer of the same call goes straight through.
    slack.wait_for(lambda: next((c for c in sim.live_conversations() if c.id == call.id
                                 and c.agent_name == "Sam Sales" and c.state == "connected"), None), timeout=30)
    _, key = client.command(f"{call.id} Support", user=APPROVER)

    results = slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")],
                             timeout=30)
    assert "already waiting" not in json.dumps(slack.responses(key))
    assert "Support" in results[-1]["text"]
    assert [t.queue_id for t in sim.transfers] == [sales.id, support.id]
    # The running bot synced Slack several times meanwhile; an operator's transfer has no Slack audience.
    assert slack_calls_about(slack, f"cli:{OPERATOR}") == []


def test_cli_transfer_refused_stores_a_refusal_nobody_has_to_cancel(sim, slack, make_bot, tmp_path):
    sim.add_queue("Sales")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Support"))
    client = make_bot(TRANSFER_APPROVERS=APPROVER)
    env = cli_env(sim, client.bot.settings.database_url, TRANSFER_APPROVERS=APPROVER)

    done = run_cli(["transfer", call.id, "Salse"], env, tmp_path)

    assert done.returncode == 1
    assert "Not transferred (refused): no queue named 'Salse'; did you mean: Sales?" in done.stderr
    assert_plain_terminal_text(done.stdout + done.stderr)
    request_id = request_id_from(done.stdout)
    events = [e for e in audit_rows(env, tmp_path) if e["request_id"] == request_id]
    assert [e["to_state"] for e in events] == ["received", "refused"]
    assert events[-1]["reason"] == "queue_not_found" and events[-1]["via"] == "cli"
    assert sim.requests_matching("POST", REPLACE) == []
    _, key = client.command(f"{call.id} Sales", user=APPROVER)  # Slack is free to act, and syncs meanwhile
    slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")], timeout=30)
    assert slack_calls_about(slack, f"cli:{OPERATOR}") == []


def test_a_cli_transfer_killed_half_way_is_closed_not_turned_into_an_unseen_approval(
        sim, slack, make_bot, tmp_path):
    sim.add_queue("Sales")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Support"))
    client = make_bot(TRANSFER_APPROVERS=APPROVER)
    store = client.bot.runtime.store
    env = cli_env(sim, client.bot.settings.database_url, TRANSFER_APPROVERS=APPROVER, GENESYS_READ_TIMEOUT="60",
                  GENESYS_REQUEST_DEADLINE="60")
    sim.inject(method="GET", path=call.id, status=None, delay=60.0, times=1)  # the command waits on Genesys
    proc = subprocess.Popen([sys.executable, "-m", "bot", "transfer", call.id, "Sales"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        eventually(lambda: sim.requests_matching("GET", call.id), 90, "the command reading the call")
        request_id = next(e.request_id for e in store.audit_since(datetime.now(UTC) - timedelta(hours=1))
                          if e.conversation_id == call.id)
    finally:
        proc.kill()  # the operator's process dies (kill -9, a closed laptop) before anything was decided
        proc.wait(10)

    # Its lease runs out; the running bot closes it: nothing sent, nothing waiting, nobody to tell in Slack.
    closed = eventually(lambda: (r := client.bot.service.get(request_id)) and r.state.is_final and r, 60,
                        "the abandoned command closed")
    assert closed.state.value == "refused" and closed.problem.code.value == "bot_restarted"
    assert sim.requests_matching("POST", REPLACE) == []
    _, key = client.command(f"{call.id} Sales", user=APPROVER)
    slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")], timeout=30)
    assert slack_calls_about(slack, f"cli:{OPERATOR}") == []
    assert slack.api_calls("chat.postMessage") == [] or all(
        "Approve" not in json.dumps(m) for m in slack.api_calls("chat.postMessage"))


def test_cli_cancel_withdraws_a_pending_slack_request_and_its_message_follows(sim, slack, make_bot, tmp_path):
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    client = make_bot(TRANSFER_APPROVERS=APPROVER)
    env = cli_env(None, client.bot.settings.database_url)  # cancelling needs the database only
    _, key = client.command(f"{call.id} Billing", user=REQUESTER)
    post = slack.wait_api("chat.postMessage", timeout=30)[0]
    request_id = post["blocks"][2]["elements"][0]["value"]

    done = run_cli(["cancel", request_id], env, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Cancelled request {request_id}" in done.stdout
    assert_plain_terminal_text(done.stdout + done.stderr)
    update = slack.wait_for(lambda: [u for u in slack.api_calls("chat.update") if "Cancelled" in json.dumps(u)],
                            timeout=30)[-1]
    assert update["channel"] == post["channel"]
    assert "actions" not in [b["type"] for b in update["blocks"]]
    events = [e for e in audit_rows(env, tmp_path) if e["request_id"] == request_id]
    assert (events[-1]["from_state"], events[-1]["to_state"], events[-1]["actor"]) == (
        "pending", "cancelled", f"cli:{OPERATOR}")

    again = run_cli(["cancel", request_id], env, tmp_path)
    unknown = run_cli(["cancel", "0" * 32], env, tmp_path)

    assert again.returncode == 1 and "Nothing to cancel" in again.stderr and "cancelled" in again.stderr
    assert unknown.returncode == 1 and "no such request" in unknown.stderr
    _, key = client.command(f"{call.id} Billing", user=APPROVER)
    assert "Transferred" in slack.wait_for(
        lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")], timeout=30)[-1]["text"]
    assert len(sim.requests_matching("POST", REPLACE)) == 1


def test_audit_and_cancel_read_the_default_database_not_the_simulators(sim, slack, make_bot, tmp_path):
    """With DATABASE_URL unset, the operator commands read transfer-bot.db in the working directory, the
    database the bot itself uses by default; --simulated reads the simulator's separate database."""
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    client = make_bot(TRANSFER_APPROVERS=APPROVER, DATABASE_URL=f"sqlite:///{tmp_path / 'transfer-bot.db'}")
    client.command(f"{call.id} Billing", user=REQUESTER)
    request_id = slack.wait_api("chat.postMessage", timeout=30)[0]["blocks"][2]["elements"][0]["value"]
    env = cli_env()  # no DATABASE_URL: the defaults, relative to the working directory

    rows = audit_rows(env, tmp_path)
    simulated_rows = audit_rows(env, tmp_path, "--simulated")
    done = run_cli(["cancel", request_id], env, tmp_path)

    assert {r["request_id"] for r in rows} == {request_id}
    assert simulated_rows == []
    assert done.returncode == 0, done.stdout + done.stderr
    assert client.bot.service.get(request_id).state.value == "cancelled"
