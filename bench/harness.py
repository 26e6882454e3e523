"""Plumbing for the benchmark: a fake Slack, signed slash commands, the bot as an OS process.

Everything listens on and talks to 127.0.0.1 only. Copied in spirit from tests/e2e/harness.py and
bot/playground/slack_api.py, but kept here so the benchmark does not depend on the test tree, and
leaner: results are indexed by response_url key and time-stamped with time.monotonic(), the same
clock the in-process Genesys simulator uses for its request log.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-bench-0000000000-fake"


# ---------------------------------------------------------------------------------------------
# Fake Slack: Web API (answers ok) and response_url receiver (records what users would see)


@dataclass
class SlackResult:
    key: str
    at: float  # time.monotonic() when received
    payload: dict

    @property
    def text(self) -> str:
        return str(self.payload.get("text") or "")

    @property
    def succeeded(self) -> bool:
        """The bot reported the transfer as sent (confirmed or not yet confirmed)."""
        return "Transferred:" in self.text or "Transfer sent" in self.text

    @property
    def confirmed(self) -> bool:
        return "Transferred:" in self.text


class SlackSink:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._results: dict[str, list[SlackResult]] = {}
        self.api_calls = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                now = time.monotonic()
                if self.path.startswith("/response/"):
                    sink._record(self.path[len("/response/"):], now, _decode(raw, self.headers.get("Content-Type", "")))
                    body = {"ok": True}
                elif self.path.startswith("/api/"):
                    with sink._cond:
                        sink.api_calls += 1
                    body = {"ok": True, "ts": f"{int(time.time())}.000001", "channel": "C0FLOOR01"}
                else:
                    body = {"ok": False, "error": "unknown_path"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True)

    def start(self) -> SlackSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}/response/{key}"

    def _record(self, key: str, at: float, payload: dict) -> None:
        with self._cond:
            self._results.setdefault(key, []).append(SlackResult(key, at, payload))
            self._cond.notify_all()

    def first_result(self, key: str) -> SlackResult | None:
        with self._cond:
            got = self._results.get(key)
            return got[0] if got else None

    def wait_results(self, keys: Iterable[str], timeout: float) -> dict[str, SlackResult]:
        """Wait (bounded) until every key has a result; returns those that arrived."""
        keys = list(keys)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                missing = [k for k in keys if k not in self._results]
                remaining = deadline - time.monotonic()
                if not missing or remaining <= 0:
                    return {k: self._results[k][0] for k in keys if k in self._results}
                self._cond.wait(min(remaining, 0.2))


def _decode(raw: str, content_type: str) -> dict:
    if "json" in content_type:
        try:
            value = json.loads(raw or "{}")
        except ValueError:
            return {"raw": raw}
        return value if isinstance(value, dict) else {"value": value}
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


# ---------------------------------------------------------------------------------------------
# Signed slash commands, timed client-side (send -> full HTTP response)


@dataclass
class Ack:
    key: str
    status: int
    body: str
    started: float  # time.monotonic() when the request started (connect included)
    elapsed: float  # seconds, send -> full response read
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and "Working on it" in self.body


def slash_body(sink: SlackSink, text: str, key: str, user: str = "U0AGENT01") -> str:
    return urlencode({
        "token": "deprecated", "team_id": "T0BENCH", "team_domain": "bench", "channel_id": "C0FLOOR01",
        "channel_name": "floor", "user_id": user, "user_name": user.lower(), "command": "/transfer",
        "text": text, "api_app_id": "A0BENCH", "is_enterprise_install": "false",
        "response_url": sink.response_url(key), "trigger_id": f"{uuid.uuid4().int}.trigger",
    })


def sign(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    return SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)


def post_command(port: int, body: str, key: str, timeout: float = 30.0) -> Ack:
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(body, ts),
    }
    data = body.encode()
    started = time.monotonic()
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", "/slack/events", body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return Ack(key, response.status, text, started, time.perf_counter() - t0)
    except OSError as error:
        return Ack(key, 0, "", started, time.perf_counter() - t0, error=f"{type(error).__name__}: {error}")
    finally:
        conn.close()


def send_commands(port: int, sink: SlackSink, texts: list[str], in_flight: int) -> list[Ack]:
    """Send one slash command per text with at most `in_flight` outstanding; returns acks in order."""
    prepared = []
    for text in texts:
        key = uuid.uuid4().hex
        prepared.append((slash_body(sink, text, key), key))
    with ThreadPoolExecutor(max_workers=max(1, in_flight), thread_name_prefix="slack-client") as pool:
        return list(pool.map(lambda item: post_command(port, item[0], item[1]), prepared))


# ---------------------------------------------------------------------------------------------
# The bot: `python app.py --http` as its own OS process


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def bot_env(sink: SlackSink, sim: Any, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": sink.api_url,
        "GENESYS_CLOUD_API_HOST": sim.url,
        "GENESYS_CLOUD_CLIENT_ID": sim.client_id,
        "GENESYS_CLOUD_CLIENT_SECRET": sim.client_secret,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def get_health(port: int, timeout: float = 1.0) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        raw = response.read()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        return response.status, body
    finally:
        conn.close()


class BotProcess:
    """The bot started exactly as an operator would: `python app.py --http`, in an empty work dir
    (so no developer .env is loaded), with only the environment we give it."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str) -> None:
        self._env = {k: v for k, v in os.environ.items()
                     if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_", "DATABASE_", "HTTP_", "QUEUE_"))}
        self._env.update(env)
        self._env["PYTHONUNBUFFERED"] = "1"
        self._workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._relaunched = False
        self._launch()

    def _launch(self) -> None:
        # free_port() can race with another process taking the port; wait_healthy() relaunches once.
        self.port = free_port()
        self._env["PORT"] = str(self.port)
        self._env["HOST"] = "127.0.0.1"
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--http"], cwd=str(self._workdir), env=self._env,
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.log_tail()}")

    def wait_healthy(self, timeout: float = 30.0, poll: float = 0.005) -> float:
        """Seconds from process start to the first `GET /healthz` = 200."""
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and not self._relaunched and "in use" in self.log_tail(4000).lower():
                self._relaunched = True
                self._launch()
                deadline = self.started + timeout
                continue
            self._check_alive()
            try:
                status, _ = get_health(self.port, timeout=1.0)
                if status == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(poll)
        raise RuntimeError(f"bot not healthy after {timeout}s:\n{self.log_tail()}")

    def wait_genesys_ready(self, timeout: float = 60.0, poll: float = 0.02) -> float:
        """Seconds from process start until /healthz reports the Genesys SDK client as ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                status, body = get_health(self.port, timeout=1.0)
            except OSError:
                status, body = 0, {}
            if status == 200 and body.get("genesys") == "ready":
                return time.monotonic() - self.started
            if body.get("genesys") == "failed":
                raise RuntimeError(f"the bot's Genesys client failed to start:\n{self.log_tail()}")
            time.sleep(poll)
        raise RuntimeError(f"Genesys client not ready after {timeout}s:\n{self.log_tail()}")

    def rss_mb(self) -> float:
        return _status_kb(self.proc.pid, "VmRSS") / 1024.0

    def hwm_mb(self) -> float:
        return _status_kb(self.proc.pid, "VmHWM") / 1024.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def _status_kb(pid: int, field_name: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field_name} not found for pid {pid}")


def quiet_disconnects(sim: Any) -> None:
    """Don't print a traceback when the bot (killed at the end of a scenario) drops a keep-alive
    connection to the simulator; any other handler error is still printed."""
    server = getattr(sim, "_server", None)
    if server is None:
        return
    default = server.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        default(request, client_address)

    server.handle_error = handle_error


# ---------------------------------------------------------------------------------------------
# Small statistics


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): the value that pct% of samples are at or below."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(len(ordered) * pct / 100.0)))
    return ordered[rank - 1]


@dataclass
class Row:
    scenario: str
    measure: str
    value: str
    limit: str = ""
    verdict: str = "info"  # met | MISSED | info | ERROR
    raw: Any = None


@dataclass
class ScenarioResult:
    name: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
