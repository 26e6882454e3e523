"""Start-up errors and the audit, as an operator meets them: `python app.py` and `python -m bot` as their
own processes (issue 8: start-up tracebacks, placeholders, Socket Mode network vs refusal, the audit)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain.request import AUDIT_COLUMNS
from bot.playground.slack_api import FakeSlack
from bot.simulator import demo_id
from tests.kit.bots import ROOT, BotProcess
from tests.kit.env import bot_env
from tests.kit.net import free_port
from tests.kit.slack_client import SlackClientSide

APP_TOKEN = "xapp-1-A0TEST-1-fake"
PASSWORD = "s3cret-pw-for-the-test"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_", "DATABASE_", "LOG_", "PORT", "OPS_PORT", "HOST"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", HOST="127.0.0.1", OPS_PORT=str(free_port()))
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def assert_one_clear_line(done: subprocess.CompletedProcess, *words: str) -> str:
    """Exit 2, no traceback, and the problem said on one line (what, where, what to do)."""
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    [line] = [line for line in output.splitlines() if all(w in line for w in words)]
    return line


# ---- start-up errors -----------------------------------------------------------------------------


def test_a_port_in_use_is_one_line_and_exit_2(sim, slack, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(**bot_env(slack, sim, f"sqlite:///{tmp_path / 'bot.db'}"), PORT=str(port))

        done = run([str(ROOT / "app.py"), "--http"], env, tmp_path)

    line = assert_one_clear_line(done, f"127.0.0.1:{port}")
    assert "not available" in line and "PORT" in line


@pytest.mark.parametrize("database_url", [
    f"postgresql://bot:{PASSWORD}@127.0.0.1:{{port}}/transfers",
    "sqlite:///{tmp}/not-a-directory/bot.db",
])
def test_an_unreachable_database_is_one_line_and_exit_2_without_the_password(sim, slack, tmp_path, database_url):
    (tmp_path / "not-a-directory").write_text("a file where the database's folder should be")
    url = database_url.format(port=free_port(), tmp=tmp_path)
    env = clean_env(**bot_env(slack, sim, url), PORT=str(free_port()))

    app = run([str(ROOT / "app.py"), "--http"], env, tmp_path)
    audit = run(["-m", "bot", "audit"], env, tmp_path)
    cancel = run(["-m", "bot", "cancel", "0" * 32], env, tmp_path)

    for done in (app, audit, cancel):
        line = assert_one_clear_line(done, "database", "DATABASE_URL")
        assert "unreachable" in line
        assert PASSWORD not in done.stdout + done.stderr


def test_settings_copied_unchanged_from_env_example_are_refused_by_name(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")

    done = run([str(ROOT / "app.py")], clean_env(), tmp_path, timeout=60)

    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "GENESYS_CLOUD_CLIENT_ID", "GENESYS_CLOUD_CLIENT_SECRET"):
        assert f"{name} is still the placeholder from .env.example" in output
    http = run([str(ROOT / "app.py"), "--http"], clean_env(), tmp_path, timeout=60)
    assert "SLACK_SIGNING_SECRET is still the placeholder from .env.example" in http.stdout + http.stderr


# ---- Socket Mode: the network, or Slack's refusal ----------------------------------------------------


@pytest.mark.parametrize(("api_url", "cause"), [
    ("http://slack-api.invalid/api/", "DNS lookup failed"),
    ("http://127.0.0.1:{port}/api/", "connection refused"),
])
def test_socket_mode_network_failures_are_not_blamed_on_the_token(sim, slack, tmp_path, api_url, cause):
    url = api_url.format(port=free_port())
    env = clean_env(**{**bot_env(slack, sim, f"sqlite:///{tmp_path / 'bot.db'}"), "SLACK_APP_TOKEN": APP_TOKEN,
                       "SLACK_API_URL": url})

    done = run([str(ROOT / "app.py")], env, tmp_path)

    line = assert_one_clear_line(done, "Could not reach Slack")
    assert cause in line and url.rstrip("/") in line and "network problem, not a token problem" in line
    assert "SLACK_APP_TOKEN" not in done.stdout + done.stderr


def test_socket_mode_refusal_names_slacks_error(sim, slack: FakeSlack, tmp_path):
    slack.app_token = "xapp-1-A0TEST-1-fake-another"  # Slack answers invalid_auth to ours
    env = clean_env(**bot_env(slack, sim, f"sqlite:///{tmp_path / 'bot.db'}"), SLACK_APP_TOKEN=APP_TOKEN)

    done = run([str(ROOT / "app.py")], env, tmp_path)

    line = assert_one_clear_line(done, "Slack refused the Socket Mode connection")
    assert "(invalid_auth)" in line and "SLACK_APP_TOKEN" in line


# ---- Genesys failures from the command that checks credentials --------------------------------------


def test_cli_names_the_genesys_cause_and_host_and_logs_a_login_failure_once(sim, tmp_path):
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    closed = f"http://127.0.0.1:{free_port()}"
    base = {"GENESYS_CLOUD_CLIENT_ID": sim.client_id, "GENESYS_CONNECT_TIMEOUT": "1",
            "GENESYS_READ_TIMEOUT": "2", "GENESYS_REQUEST_DEADLINE": "4",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    refused = run(["-m", "bot", "transfer", call.id, "Sales"],
                  clean_env(**base, GENESYS_CLOUD_API_HOST=closed, GENESYS_CLOUD_CLIENT_SECRET=sim.client_secret),
                  tmp_path)
    wrong_secret = "not-the-secret-" + "x" * 12
    rejected = run(["-m", "bot", "transfer", call.id, "Sales"],
                   clean_env(**base, GENESYS_CLOUD_API_HOST=sim.url, GENESYS_CLOUD_CLIENT_SECRET=wrong_secret),
                   tmp_path)

    assert refused.returncode == 1
    assert "Not transferred (refused): Genesys could not be reached (127.0.0.1 refused the connection)" \
        in refused.stderr
    assert rejected.returncode == 1
    assert "Genesys rejected the OAuth client id/secret" in rejected.stderr
    logged = [line for line in rejected.stderr.splitlines() if "Genesys login" in line]
    assert len(logged) == 1 and "127.0.0.1" in logged[0] and "401" in logged[0]
    assert wrong_secret not in rejected.stdout + rejected.stderr
    for done in (refused, rejected):
        assert "`" not in done.stderr and "*" not in done.stderr
    assert sim.transfers == []


# ---- the audit --------------------------------------------------------------------------------------


def test_simulator_transfers_are_marked_and_the_exports_carry_the_same_columns(tmp_path):
    """`python app.py --simulate-genesys`, even with DATABASE_URL set as .env.example sets it: every audit row
    says `simulated`, and CSV and JSON carry AUDIT_COLUMNS in order."""
    slack = FakeSlack().start()
    database_url = f"sqlite:///{tmp_path / 'transfer-bot.db'}"
    env = {k: v for k, v in bot_env(slack, _NoSim(), database_url).items() if not k.startswith("GENESYS_")}
    port = free_port()
    bot = BotProcess({**env, "OPS_PORT": str(free_port())}, port=port, log_path=tmp_path / "bot.log",
                     mode="--simulate-genesys")
    try:
        bot.wait_ready(120)
        client = SlackClientSide(slack, "127.0.0.1", port)
        _, key = client.command(f"{demo_id('call:connected')} Billing", user="U0LEAD001")
        # Refused attempts are recorded too: an ended call, an unknown queue.
        _, ended = client.command(f"{demo_id('call:ended')} Billing", user="U0LEAD002")
        _, unknown = client.command(f"{demo_id('conversation:bob_call')} No Such Queue", user="U0LEAD002")
        slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in json.dumps(r)], timeout=60)
        slack.wait_responses(ended, timeout=60)
        slack.wait_responses(unknown, timeout=60)
    finally:
        bot.stop()
        slack.stop()
    env = clean_env(DATABASE_URL=database_url)

    as_json = run(["-m", "bot", "audit", "--since", "1h", "--format", "json"], env, tmp_path)
    as_csv = run(["-m", "bot", "audit", "--since", "1h", "--format", "csv"], env, tmp_path)

    rows = json.loads(as_json.stdout)
    table = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert all(list(row) == list(AUDIT_COLUMNS) for row in rows)
    assert table[0] == list(AUDIT_COLUMNS) and len(table) == len(rows) + 1
    assert rows and all(row["simulated"] is True for row in rows)
    assert {row["to_state"] for row in rows} >= {"received", "refused", "approved", "succeeded"}
    refused = sorted((row["reason"], row["actor"], row["conversation_id"], row["target_kind"], row["target_name"])
                     for row in rows if row["to_state"] == "refused")
    assert refused == [("call_ended", "U0LEAD002", demo_id("call:ended"), "queue", "Billing"),
                       ("queue_not_found", "U0LEAD002", demo_id("conversation:bob_call"), "queue", "No Such Queue")]
    # Every row says where the call was going: resolved, or as asked before it could be resolved.
    assert all(row["target_kind"] == "queue" and row["target_name"] for row in rows)
    done = [row for row in rows if row["to_state"] == "succeeded"]
    assert [(r["target_kind"], r["target_id"], r["target_name"], r["direct"], r["via"]) for r in done] == [
        ("queue", demo_id("queue:Home:Billing"), "Billing", True, "slack")]
    approved = next(row for row in rows if row["to_state"] == "approved")
    assert (approved["from_state"], approved["reason"], approved["direct"]) == ("received", "direct", True)


class _NoSim:
    """bot_env wants a simulator; with --simulate-genesys the bot starts its own."""

    url = client_id = client_secret = ""
