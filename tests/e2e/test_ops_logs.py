"""Logs (issue 11): JSON lines a machine can read, with the transfer's ids; no secret at DEBUG, in either format.

A real bot process (`python app.py --http`, stdout and stderr into one file) at LOG_LEVEL=DEBUG
goes through a full transfer, a Genesys 401 (its token expired), a crash in a Slack listener (a
malformed click), a command that quotes secrets, a third-party warning and an uncaught exception
in a thread (from tests/kit/probe/sitecustomize.py, whose text carries every secret). Then every
line it wrote is read back.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from bot.playground.slack_api import BOT_TOKEN
from tests.kit.bots import BotProcess
from tests.kit.env import SIGNING_SECRET, bot_env
from tests.kit.net import free_port
from tests.kit.slack_client import SlackClientSide

REPLACE = r"/participants/[^/]+/replace/queue$"
APP_TOKEN = "xapp-1-A0TEST-1-fake-logsecret"
PROBE_DIR = Path(__file__).resolve().parents[1] / "kit" / "probe"


def texts(slack, key: str) -> list[str]:
    return [r.get("text", "") for r in slack.responses(key)]


def wait_log(bot: BotProcess, needle: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while needle not in bot.log():
        assert time.monotonic() < deadline, f"{needle!r} not logged within {timeout}s:\n{bot.log()[-3000:]}"
        time.sleep(0.1)


def drive(sim, slack, tmp_path: Path, fmt: str) -> tuple[BotProcess, dict]:
    """Run the scenario on a bot process logging in `fmt` at DEBUG; returns the stopped bot and facts."""
    sim.add_queue("Billing")
    first, second, third = (sim.add_call(scenario="connected", queue=sim.add_queue(f"Sales{i}")) for i in range(3))
    trigger = tmp_path / "probe-now"
    env = bot_env(slack, sim, f"sqlite:///{tmp_path / 'bot.db'}", LOG_LEVEL="DEBUG", LOG_FORMAT=fmt,
                  SLACK_APP_TOKEN=APP_TOKEN, PYTHONPATH=str(PROBE_DIR), TRANSFERBOT_PROBE=str(trigger))
    bot = BotProcess(env, port=free_port(), log_path=tmp_path / f"bot-{fmt}.log")
    try:
        bot.wait_ready(timeout=120)
        client = SlackClientSide(slack, "127.0.0.1", bot.port)

        _, key = client.command(f"{first.id} Billing", user="U0AGENT01")
        slack.wait_for(lambda: [t for t in texts(slack, key) if "Transferred" in t], timeout=30)
        # Genesys forgets every token: the next call earns a 401, and the bot logs in again
        sim.expire_tokens()
        _, key = client.command(f"{second.id} Billing", user="U0AGENT02")
        slack.wait_for(lambda: [t for t in texts(slack, key) if "Transferred" in t], timeout=30)
        assert [r for r in sim.requests if r.status == 401], "the bot never met a 401"
        # The client secret is rotated in Genesys: the login itself is refused (401 invalid_client)
        sim.add_client(sim.client_id, "rotated-elsewhere-0001")
        sim.expire_tokens()
        _, key = client.command(f"{third.id} Billing", user="U0AGENT03")
        slack.wait_for(lambda: texts(slack, key) and [t for t in texts(slack, key) if "Not transferred" in t],
                       timeout=30)
        assert sim.requests_matching("POST", r"^/oauth/token$")[-1].status == 401
        sim.add_client(sim.client_id, sim.client_secret)
        # Someone pastes secrets into the command
        client.command(f"{sim.client_secret} {BOT_TOKEN} {SIGNING_SECRET}")
        # A malformed click: the approve listener crashes on it
        client.interaction({"type": "block_actions", "user": "U0CRASH01", "container": "not-a-container",
                            "actions": [{"type": "button", "action_id": "transfer_approve", "value": "x",
                                         "block_id": "b", "action_ts": "1.0"}], "trigger_id": "1.trigger"})
        # A library warning, then an uncaught exception in a plain thread
        trigger.touch()
        wait_log(bot, "probe crash carrying")
        assert bot.proc.poll() is None  # a crash in a thread does not take the process down
    finally:
        code = bot.terminate(timeout=30)
        bot.stop()
    [post, _] = sim.requests_matching("POST", REPLACE)
    bearers = {r.headers.get("Authorization", "")[7:].strip() for r in sim.requests
               if r.headers.get("Authorization", "").startswith("Bearer ")}
    bearers |= set(sim._tokens)  # every token the simulator issued
    facts = {"call": first.id, "post": post, "bearers": bearers, "exit_code": bot.proc.returncode,
             "stopped_in": code}
    return bot, facts


def secrets_of(sim, facts: dict) -> dict[str, str]:
    found = {"bot token": BOT_TOKEN, "signing secret": SIGNING_SECRET, "app token": APP_TOKEN,
             "client secret": sim.client_secret}
    assert len(facts["bearers"]) >= 2, "expected a token before and after the 401"
    found.update({f"bearer {i}": token for i, token in enumerate(sorted(facts["bearers"]))})
    return found


def assert_no_secret(output: str, secrets: dict[str, str]) -> None:
    for name, value in secrets.items():
        assert value not in output, f"the {name} appears in the output"
    # the Basic credentials of the login (client id:secret in base64) neither
    assert not re.search(r"Basic [A-Za-z0-9+/=]{12,}", output)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_no_secret_in_any_line_at_debug(sim, slack, tmp_path, fmt):
    bot, facts = drive(sim, slack, tmp_path, fmt)
    output = bot.log_path.read_text(errors="replace")

    assert_no_secret(output, secrets_of(sim, facts))
    assert facts["exit_code"] == 0
    assert "probe crash carrying" in output and "[redacted]" in output  # the crash's text was there, scrubbed
    assert "transfer_approve" in output or "approve click" in output  # the listener crash was logged
    if fmt == "text":
        assert "Traceback (most recent call last)" in output  # tracebacks are logged, and scrubbed too


def test_json_logs_every_line_is_an_object_and_the_transfer_carries_its_ids(sim, slack, tmp_path):
    bot, facts = drive(sim, slack, tmp_path, "json")
    lines = bot.log_path.read_text(errors="replace").splitlines()

    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"line {number} is not JSON: {line[:300]!r}")
        assert isinstance(record, dict), line
        for key in ("ts", "level", "logger", "message"):
            assert key in record, (key, line[:300])
        records.append(record)
    assert len(records) > 20

    by_logger = {r["logger"] for r in records}
    assert "py.warnings" in by_logger  # the library warning, as a JSON line
    [crash] = [r for r in records if r["logger"] == "bot.uncaught"]
    assert crash["level"] == "CRITICAL" and "RuntimeError: probe crash carrying" in crash["exc_info"]
    assert [r for r in records if "AttributeError" in r.get("exc_info", "")]  # the listener crash, traceback
    # The transfer: its lines name the request and the call, and the Genesys correlation id of its POST
    post = facts["post"]
    mine = [r for r in records if r.get("conversation_id") == facts["call"]]
    assert mine, "no line carries the conversation id"
    request_ids = {r.get("request_id") for r in mine}
    assert len(request_ids) == 1 and None not in request_ids, request_ids
    assert [r for r in mine if r.get("genesys_correlation_id") == post.correlation_id], \
        "no line of the transfer carries the correlation id Genesys gave its POST"
    timed = [r for r in records if r.get("operation") == "replace_queue" and "duration_ms" in r]
    assert timed and all(isinstance(r["duration_ms"], int | float) for r in timed)
    assert {r["level"] for r in records} <= {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
