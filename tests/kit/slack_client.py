"""What Slack would POST to /slack/events, signed like Slack signs it."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from slack_sdk.signature import SignatureVerifier

from bot.playground.slack_api import FakeSlack
from tests.kit.env import SIGNING_SECRET

TEAM = "T0TEST"
APP = "A0TEST"


@dataclass
class Reply:
    status: int
    body: str
    elapsed: float

    def json(self) -> dict:
        return json.loads(self.body)


class SlackClientSide:
    def __init__(self, slack: FakeSlack, host: str, port: int, secret: str = SIGNING_SECRET) -> None:
        self.slack = slack
        self.host = host
        self.port = port
        self.verifier = SignatureVerifier(secret)

    def post(self, body: str, *, timestamp: int | None = None, signature: str | None = None,
             content_type: str = "application/x-www-form-urlencoded", raw: bytes | None = None) -> Reply:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or self.verifier.generate_signature(timestamp=ts, body=body),
        }
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("POST", "/slack/events", body=raw if raw is not None else body.encode(), headers=headers)
            response = conn.getresponse()
            data = response.read().decode()
        finally:
            conn.close()
        return Reply(response.status, data, time.perf_counter() - started)

    def get(self, path: str) -> Reply:
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            data = response.read().decode()
        finally:
            conn.close()
        return Reply(response.status, data, time.perf_counter() - started)

    def command_body(self, text: str, *, user: str = "U0AGENT01", channel: str = "C0FLOOR01",
                     key: str | None = None, trigger_id: str | None = None) -> tuple[str, str]:
        key = key or uuid.uuid4().hex
        body = urlencode({
            "token": "deprecated", "team_id": TEAM, "team_domain": "test", "channel_id": channel,
            "channel_name": "floor", "user_id": user, "user_name": user.lower(), "command": "/transfer",
            "text": text, "api_app_id": APP, "is_enterprise_install": "false",
            "response_url": self.slack.response_url(key), "trigger_id": trigger_id or f"{uuid.uuid4().int}.trigger",
        })
        return body, key

    def command(self, text: str, *, user: str = "U0AGENT01", channel: str = "C0FLOOR01", key: str | None = None,
                trigger_id: str | None = None, **kw) -> tuple[Reply, str]:
        body, key = self.command_body(text, user=user, channel=channel, key=key, trigger_id=trigger_id)
        return self.post(body, **kw), key

    def interaction_body(self, payload: dict) -> str:
        """The form body Slack POSTs for an interaction payload (block_actions, view_submission, …)."""
        payload = {"api_app_id": APP, "token": "deprecated", "team": {"id": TEAM, "domain": "test"}, **payload}
        return f"payload={quote(json.dumps(payload))}"

    def interaction(self, payload: dict, **kw) -> Reply:
        return self.post(self.interaction_body(payload), **kw)

    def suggestion_body(self, value: str, *, user: str = "U0LEAD001", action_id: str = "queue",
                        callback_id: str = "transfer_modal") -> str:
        """A block_suggestion for the form's `action_id` external select, as Slack sends it while someone
        types. The view hash differs per call so two identical questions are not taken for a replay."""
        view = {"id": "V0FORM", "type": "modal", "callback_id": callback_id, "hash": uuid.uuid4().hex}
        return self.interaction_body({
            "type": "block_suggestion", "user": {"id": user, "username": user.lower(), "name": user.lower(),
                                                 "team_id": TEAM},
            "container": {"type": "view", "view_id": view["id"]}, "action_id": action_id, "block_id": action_id,
            "value": value, "view": view,
        })

    def click(self, action_id: str, value: str, *, user: str, channel: str = "C0FLOOR01",
              message_ts: str | None = None, key: str | None = None,
              container: dict | None = None) -> tuple[Reply, str]:
        key = key or uuid.uuid4().hex
        message_ts = message_ts or self.message_with_button(channel, value, user) or "1.000001"
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "container": container or {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                       "is_ephemeral": False},
            "trigger_id": f"{uuid.uuid4().int}.trigger",
            "channel": {"id": channel, "name": "floor"},
            "message": {"type": "message", "ts": message_ts, "text": "approval"},
            "response_url": self.slack.response_url(key),
            "actions": [{
                "type": "button", "action_id": action_id, "block_id": f"approval:{value}", "value": value,
                "text": {"type": "plain_text", "text": action_id}, "action_ts": str(time.time()),
            }],
        }
        if container and container.get("type") == "view":
            payload.pop("channel")
            payload.pop("message")
            payload.pop("response_url")
            payload["view"] = {"id": "V0HOME", "type": "home"}
        return self.interaction(payload), key

    def message_with_button(self, channel: str, value: str, viewer: str) -> str | None:
        """The ts of the latest message in `channel` with a button whose value is `value`, as Slack would send it
        (what else posted first, e.g. an ephemeral reply, decides the ts; tests must not guess it)."""
        for message, _ in reversed(self.slack.timeline(channel, viewer)):
            if f'"value": {json.dumps(value)}' in json.dumps(message.blocks or []):
                return message.ts
        return None

    def home_click(self, action_id: str, value: str, *, user: str) -> Reply:
        reply, _ = self.click(action_id, value, user=user, container={"type": "view", "view_id": "V0HOME"})
        return reply

    def event(self, event: dict, **kw) -> Reply:
        envelope = {"token": "deprecated", "team_id": TEAM, "api_app_id": APP, "type": "event_callback",
                    "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()), "event": event}
        return self.post(json.dumps(envelope), content_type="application/json", **kw)

    def home_opened(self, user: str) -> Reply:
        return self.event({"type": "app_home_opened", "user": user, "channel": f"D{user[1:]}", "tab": "home",
                           "event_ts": str(time.time())})
