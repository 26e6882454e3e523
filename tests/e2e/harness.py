"""Run the real bot over HTTP with signed Slack requests, against the simulator and a fake Slack.

`InProcessBot` serves the bot's WSGI app with waitress on 127.0.0.1 in this process (fast);
`BotProcess` runs `python app.py --http` as a separate OS process (restarts, two replicas).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from slack_sdk.signature import SignatureVerifier

from bot.config import load_settings
from bot.playground.slack_api import BOT_TOKEN, FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ROOT = Path(__file__).resolve().parents[2]


def bot_env(slack: FakeSlack, sim, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "GENESYS_CLOUD_API_HOST": sim.url,
        "GENESYS_CLOUD_CLIENT_ID": sim.client_id,
        "GENESYS_CLOUD_CLIENT_SECRET": sim.client_secret,
        "DATABASE_URL": database_url,
        "GENESYS_READ_TIMEOUT": "2",
        "GENESYS_CONNECT_TIMEOUT": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


@dataclass
class Reply:
    status: int
    body: str
    elapsed: float

    def json(self) -> dict:
        return json.loads(self.body)


class SlackClientSide:
    """Builds and signs what Slack would POST to /slack/events."""

    def __init__(self, slack: FakeSlack, host: str, port: int, secret: str = SIGNING_SECRET) -> None:
        self.slack = slack
        self.host = host
        self.port = port
        self.verifier = SignatureVerifier(secret)

    def post(self, body: str, *, timestamp: int | None = None, signature: str | None = None) -> Reply:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or self.verifier.generate_signature(timestamp=ts, body=body),
        }
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
            response = conn.getresponse()
            data = response.read().decode()
        finally:
            conn.close()
        return Reply(response.status, data, time.perf_counter() - started)

    def command(self, text: str, *, user: str = "U0AGENT01", channel: str = "C0FLOOR01", key: str | None = None,
                **kw) -> tuple[Reply, str]:
        key = key or uuid.uuid4().hex
        body = urlencode({
            "token": "deprecated", "team_id": "T0TEST", "team_domain": "test", "channel_id": channel,
            "channel_name": "floor", "user_id": user, "user_name": user.lower(), "command": "/transfer",
            "text": text, "api_app_id": "A0TEST", "is_enterprise_install": "false",
            "response_url": self.slack.response_url(key), "trigger_id": f"{uuid.uuid4().int}.trigger",
        })
        return self.post(body, **kw), key

    def click(self, action_id: str, value: str, *, user: str, channel: str = "C0FLOOR01",
              message_ts: str = "1.000001", key: str | None = None) -> tuple[Reply, str]:
        key = key or uuid.uuid4().hex
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEST"},
            "api_app_id": "A0TEST",
            "token": "deprecated",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": f"{uuid.uuid4().int}.trigger",
            "team": {"id": "T0TEST", "domain": "test"},
            "channel": {"id": channel, "name": "floor"},
            "message": {"type": "message", "ts": message_ts, "text": "approval"},
            "response_url": self.slack.response_url(key),
            "actions": [{
                "type": "button", "action_id": action_id, "block_id": f"approval:{value}", "value": value,
                "text": {"type": "plain_text", "text": action_id}, "action_ts": str(time.time()),
            }],
        }
        return self.post(f"payload={quote(json.dumps(payload))}"), key


class InProcessBot:
    def __init__(self, env: dict[str, str], *, sweep_interval: float = 0.2) -> None:
        from bot.slack.server import create_http_server, make_wsgi_app
        from bot.wiring import build_runtime

        self.settings = load_settings(env, force_mode="http")
        self.runtime = build_runtime(self.settings, sweep_interval=sweep_interval)
        self.server = create_http_server(
            make_wsgi_app(self.runtime.bolt_app, self.runtime.health), host="127.0.0.1", port=0, threads=16
        )
        self.port = self.server.effective_port
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        # close() from the test thread ends select() with EBADF; that is the stop signal.
        with contextlib.suppress(OSError):
            self.server.run()

    def stop(self) -> None:
        self.server.close()
        self.runtime.close()


class BotProcess:
    """The bot as its own OS process, started exactly as an operator would: `python app.py --http`."""

    def __init__(self, env: dict[str, str], *, port: int, log_path: Path) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_"))}
        full_env.update(env)
        full_env["PORT"] = str(port)
        full_env["HOST"] = "127.0.0.1"
        full_env["PYTHONUNBUFFERED"] = "1"
        self.port = port
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--http"], cwd=str(log_path.parent), env=full_env,
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = 20.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"bot not healthy after {timeout}s: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
