"""`/transfer` over Socket Mode: `python app.py` as its own process → fake WebSocket endpoint → simulator.

The bot opens its connection through FakeSlack's apps.connections.open (so SLACK_API_URL is
honoured for it too), receives envelopes from FakeSocketMode and acks them on the socket; the
result still goes to the command's response_url.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.playground.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tests.kit.bots import ROOT
from tests.kit.env import bot_env

# Genesys requests a command would make (conversations, users, a transfer); the queue directory's own
# background refresh (queue list, health) may run at any time and is not one of them.
LOOKUPS = r"^/api/v2/(?!routing/queues|analytics/queues)"

APP_TOKEN = "xapp-1-A0TEST-1-fake"
REPLACE = r"/participants/[^/]+/replace/queue$"


class SocketBotProcess:
    """`python app.py` (no --http): with SLACK_APP_TOKEN set it runs Socket Mode."""

    def __init__(self, env: dict[str, str], *, log_path: Path) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_"))}
        full_env.update(env)
        full_env.pop("PORT", None)
        full_env["PYTHONUNBUFFERED"] = "1"
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")], cwd=str(log_path.parent), env=full_env,
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@dataclass
class SocketBot:
    ws: FakeSocketMode
    slack: FakeSlack
    process: SocketBotProcess

    def command(self, text: str, *, user: str = "U0AGENT01", channel: str = "C0FLOOR01") -> tuple[str, str]:
        """Push a /transfer slash_commands envelope; returns (envelope_id, response_url key)."""
        key = uuid.uuid4().hex
        payload = {
            "token": "deprecated", "team_id": "T0TEST", "team_domain": "test", "channel_id": channel,
            "channel_name": "floor", "user_id": user, "user_name": user.lower(), "command": "/transfer",
            "text": text, "api_app_id": "A0TEST", "is_enterprise_install": "false",
            "response_url": self.slack.response_url(key), "trigger_id": f"{uuid.uuid4().int}.trigger",
        }
        return self.ws.push_slash_command(payload), key


@pytest.fixture
def socket_bot(sim, slack: FakeSlack, tmp_path) -> Iterator[SocketBot]:
    ws = FakeSocketMode().start()
    slack.socket_mode_url = ws.url
    slack.app_token = APP_TOKEN
    env = bot_env(slack, sim, f"sqlite:///{tmp_path / 'bot.db'}", SLACK_APP_TOKEN=APP_TOKEN)
    process = SocketBotProcess(env, log_path=tmp_path / "bot.log")
    try:
        try:
            ws.wait_connected(timeout=20, alive=process.alive)
        except AssertionError as error:
            raise AssertionError(f"{error}\nbot log:\n{process.log()}") from None
        yield SocketBot(ws, slack, process)
    finally:
        process.stop()
        ws.stop()


def test_transfer_over_socket_mode_acks_on_the_socket_and_reports_to_response_url(sim, slack, socket_bot):
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    ws = socket_bot.ws

    # The connection came from apps.connections.open with the app-level token, on SLACK_API_URL.
    assert len(slack.api_calls("apps.connections.open")) >= 1
    conn = ws.active()
    assert conn.path.startswith("/link/")
    assert conn.headers.get("host") == "127.0.0.1"

    envelope_id, key = socket_bot.command(f"{call.id} Billing", user="U0LEAD001")

    ack = ws.wait_ack(envelope_id, timeout=3.0)
    assert ack.at - ws.pushed[envelope_id] < 3.0
    assert ack.payload is not None, ack.raw
    assert "Working on it" in ack.payload["text"]
    assert call.id[:8] in ack.payload["text"]

    result = slack.wait_responses(key, timeout=15)[0]
    assert result["response_type"] == "in_channel"
    assert "Transferred" in result["text"]
    assert "Billing" in result["text"]
    assert "<@U0LEAD001>" in result["text"]
    posts = sim.requests_matching("POST", REPLACE)
    assert len(posts) == 1
    assert f"/participants/{call.agent_participant_id}/replace/queue" in posts[0].path
    assert posts[0].json == {"queueId": queue.id}

    # Exactly one ack for the envelope, every client frame masked, and the bot is still connected.
    assert len(ws.acks_for(envelope_id)) == 1
    assert ws.unmasked_frames == 0
    assert socket_bot.process.alive()
    assert ws.active() is conn


def test_help_over_socket_mode_is_answered_in_the_ack(sim, slack, socket_bot):
    envelope_id, key = socket_bot.command("help")

    ack = socket_bot.ws.wait_ack(envelope_id, timeout=3.0)

    assert ack.payload is not None, ack.raw
    assert "/transfer <conversation-id> <queue name>" in ack.payload["text"]
    assert ack.payload["response_type"] == "ephemeral"
    time.sleep(0.3)  # nothing runs in the background for help
    assert sim.requests_matching(None, LOOKUPS) == []
    assert slack.responses(key) == []


def test_rejected_app_token_exits_2_with_a_clear_message(sim, slack: FakeSlack, tmp_path):
    slack.app_token = "xapp-1-A0TEST-1-other-fake"
    env = bot_env(slack, sim, f"sqlite:///{tmp_path / 'bad.db'}", SLACK_APP_TOKEN=APP_TOKEN)
    bot = SocketBotProcess(env, log_path=tmp_path / "bad.log")
    try:
        code = bot.proc.wait(60)
    finally:
        bot.stop()
    assert code == 2
    assert "Slack refused the Socket Mode connection (invalid_auth)" in bot.log()
    assert "Traceback" not in bot.log()


def test_sigterm_stops_socket_mode_cleanly(socket_bot):
    socket_bot.process.proc.terminate()
    assert socket_bot.process.proc.wait(30) == 0
