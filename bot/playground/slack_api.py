"""A local stand-in for the Slack Web API and for response_url endpoints.

Speaks the wire format slack_sdk uses (form or JSON bodies, `{"ok": ...}` answers) and records
everything, so tests assert on what Slack would have shown.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from bot.playground.waiting import wait_on

BOT_TOKEN = "xoxb-test-0000000000-fake"


@dataclass
class Received:
    kind: str  # "api" or "response_url"
    name: str  # API method name, or the response_url key
    payload: dict
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    def __init__(self, *, bot_token: str = BOT_TOKEN) -> None:
        self.bot_token = bot_token
        self.received: list[Received] = []
        self.usergroups: dict[str, list[str]] = {}
        self.failures: dict[str, str] = {}  # method -> Slack error code
        self.delay = 0.0
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out (a ws:// URL)
        self.app_token: str | None = None  # when set, apps.connections.open requires it as the Bearer token
        self._ts = itertools.count(1)
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ---- lifecycle ----
    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}/response/{key}"

    # ---- inspection ----
    def api_calls(self, method: str) -> list[dict]:
        with self._lock:
            return [r.payload for r in self.received if r.kind == "api" and r.name == method]

    def responses(self, key: str) -> list[dict]:
        with self._lock:
            return [r.payload for r in self.received if r.kind == "response_url" and r.name == key]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        return wait_on(
            self._lock, predicate, timeout, lambda: f"condition not met within {timeout}s; received: {self.summary()}"
        )

    def wait_responses(self, key: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        return self.wait_for(lambda: len(self.responses(key)) >= count and self.responses(key), timeout)

    def wait_api(self, method: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        return self.wait_for(lambda: len(self.api_calls(method)) >= count and self.api_calls(method), timeout)

    def summary(self) -> list[str]:
        return [f"{r.kind}:{r.name}:{json.dumps(r.payload)[:300]}" for r in self.received]

    # ---- server ----
    def _record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)
            self._lock.notify_all()

    def _api(self, method: str, payload: dict, auth: str) -> tuple[int, dict]:
        if method != "apps.connections.open" and auth != f"Bearer {self.bot_token}":
            return 200, {"ok": False, "error": "invalid_auth"}
        if method in self.failures:
            return 200, {"ok": False, "error": self.failures[method]}
        if method == "apps.connections.open":
            if self.app_token is not None and auth != f"Bearer {self.app_token}":
                return 200, {"ok": False, "error": "invalid_auth"}
            if self.socket_mode_url is not None:
                return 200, {"ok": True, "url": self.socket_mode_url}
        if method == "auth.test":
            return 200, {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "transfer-bot",
                         "team_id": "T0TEST", "user_id": "UBOT0001", "bot_id": "BBOT0001"}
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            return 200, {"ok": True, "channel": payload.get("channel"), "ts": ts,
                         "message": {"text": payload.get("text"), "ts": ts}}
        if method == "chat.update":
            return 200, {"ok": True, "channel": payload.get("channel"), "ts": payload.get("ts")}
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}
        if method == "usergroups.users.list":
            group = payload.get("usergroup")
            if group not in self.usergroups:
                return 200, {"ok": False, "error": "no_such_subteam"}
            return 200, {"ok": True, "users": self.usergroups[group]}
        return 200, {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if fake.delay:
                    time.sleep(fake.delay)
                payload = _decode(raw, self.headers.get("Content-Type", ""))
                if self.path.startswith("/api/"):
                    method = self.path[len("/api/"):].split("?")[0]
                    fake._record(Received("api", method, payload))
                    status, body = fake._api(method, payload, self.headers.get("Authorization", ""))
                elif self.path.startswith("/response/"):
                    fake._record(Received("response_url", self.path[len("/response/"):], payload))
                    status, body = 200, {"ok": True}
                else:
                    status, body = 404, {"ok": False, "error": "unknown_path"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _decode(raw: str, content_type: str) -> dict:
    if "json" in content_type:
        return json.loads(raw or "{}")
    form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    for key in ("blocks", "attachments"):
        if isinstance(form.get(key), str):
            with contextlib.suppress(ValueError):
                form[key] = json.loads(form[key])
    return form
