"""What Slack POSTs to an app's request URL, built and signed exactly as Slack does.

* slash commands: `application/x-www-form-urlencoded` fields (`command`, `text`, `response_url`,
  `trigger_id`, …);
* interactions (`block_actions`, `view_submission`, `view_closed`, `block_suggestion`, `shortcut`,
  `message_action`): one form field, `payload=<JSON>`;
* Events API: a JSON `event_callback` envelope.

Every body is signed with the app's signing secret (`X-Slack-Signature: v0=HMAC-SHA256(
"v0:{timestamp}:{body}")`, `X-Slack-Request-Timestamp`), using slack_sdk's SignatureVerifier.
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

ACK_TIMEOUT_SECONDS = 3.0  # Slack shows the user an error when the app has not answered by then


@dataclass(frozen=True)
class Workspace:
    """Who is who on Slack's side of a payload."""

    team_id: str
    team_domain: str
    app_id: str

    def team(self) -> dict:
        return {"id": self.team_id, "domain": self.team_domain}

    def user(self, user_id: str, name: str) -> dict:
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}


def _action_ts() -> str:
    return f"{time.time():.6f}"


def slash_command(ws: Workspace, *, user_id: str, user_name: str, channel_id: str, channel_name: str, command: str,
                  text: str, response_url: str, trigger_id: str) -> str:
    return urlencode({
        "token": "playground-verification-token-unused", "team_id": ws.team_id, "team_domain": ws.team_domain,
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_name,
        "command": command, "text": text, "api_app_id": ws.app_id, "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": trigger_id,
    })


def block_actions(ws: Workspace, *, user: dict, actions: list[dict], trigger_id: str,
                  container: dict, channel: dict | None = None, message: dict | None = None,
                  view: dict | None = None, response_url: str | None = None, state: dict | None = None) -> dict:
    payload: dict[str, Any] = {
        "type": "block_actions", "user": user, "api_app_id": ws.app_id, "token": "unused",
        "container": container, "trigger_id": trigger_id, "team": ws.team(), "enterprise": None,
        "is_enterprise_install": False, "actions": actions,
    }
    if channel is not None:
        payload["channel"] = channel
    if message is not None:
        payload["message"] = message
    if view is not None:
        payload["view"] = view
    if response_url is not None:
        payload["response_url"] = response_url
    if state is not None:
        payload["state"] = {"values": state}
    return payload


def action(element_type: str, *, action_id: str, block_id: str, **fields: Any) -> dict:
    """One entry of `actions[]`: a button's value, a menu's selected_option / selected_user / …."""
    return {"type": element_type, "action_id": action_id, "block_id": block_id, "action_ts": _action_ts(), **fields}


def view_submission(ws: Workspace, *, user: dict, view: dict, trigger_id: str) -> dict:
    return {
        "type": "view_submission", "team": ws.team(), "user": user, "api_app_id": ws.app_id, "token": "unused",
        "trigger_id": trigger_id, "view": view, "response_urls": [], "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed(ws: Workspace, *, user: dict, view: dict, is_cleared: bool = False) -> dict:
    return {"type": "view_closed", "team": ws.team(), "user": user, "api_app_id": ws.app_id, "token": "unused",
            "view": view, "is_cleared": is_cleared, "is_enterprise_install": False, "enterprise": None}


def block_suggestion(ws: Workspace, *, user: dict, action_id: str, block_id: str, value: str,
                     container: dict, view: dict | None = None, channel: dict | None = None,
                     message: dict | None = None) -> dict:
    payload: dict[str, Any] = {
        "type": "block_suggestion", "user": user, "container": container, "api_app_id": ws.app_id,
        "token": "unused", "action_id": action_id, "block_id": block_id, "value": value, "team": ws.team(),
        "enterprise": None, "is_enterprise_install": False,
    }
    if view is not None:
        payload["view"] = view
    if channel is not None:
        payload["channel"] = channel
    if message is not None:
        payload["message"] = message
    return payload


def global_shortcut(ws: Workspace, *, user: dict, callback_id: str, trigger_id: str) -> dict:
    return {"type": "shortcut", "token": "unused", "action_ts": _action_ts(), "team": ws.team(), "user": user,
            "callback_id": callback_id, "trigger_id": trigger_id, "is_enterprise_install": False, "enterprise": None}


def message_shortcut(ws: Workspace, *, user: dict, callback_id: str, trigger_id: str, channel: dict,
                     message: dict, response_url: str) -> dict:
    return {
        "type": "message_action", "token": "unused", "action_ts": _action_ts(), "team": ws.team(), "user": user,
        "channel": channel, "is_enterprise_install": False, "enterprise": None, "callback_id": callback_id,
        "trigger_id": trigger_id, "response_url": response_url, "message_ts": message.get("ts"), "message": message,
    }


def event_callback(ws: Workspace, event: dict, *, bot_user_id: str) -> dict:
    """The Events API envelope Slack POSTs as JSON."""
    return {
        "token": "unused", "team_id": ws.team_id, "api_app_id": ws.app_id, "event": event, "type": "event_callback",
        "event_id": "Ev" + secrets.token_hex(5).upper(), "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": ws.team_id, "user_id": bot_user_id, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "context_team_id": ws.team_id, "context_enterprise_id": None,
    }


def app_home_opened(user_id: str, channel_id: str, *, tab: str = "home", view: dict | None = None) -> dict:
    event: dict[str, Any] = {"type": "app_home_opened", "user": user_id, "channel": channel_id, "tab": tab,
                             "event_ts": _action_ts()}
    if view is not None:
        event["view"] = view
    return event


def interaction_body(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def signed_headers(secret: str, body: str, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


@dataclass
class BotAnswer:
    """The app's HTTP answer (the ack); status 0 means no answer (error says why)."""

    status: int
    body: str
    content_type: str
    elapsed: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def json(self) -> dict | None:
        """The ack as JSON, None for an empty or plain-text ack."""
        if not self.body.strip() or "json" not in self.content_type:
            return None
        try:
            value = json.loads(self.body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


class BotEndpoint:
    """Signs and POSTs to the app's request URL, waiting as long as Slack would (3 s)."""

    def __init__(self, url: str, signing_secret: str, *, timeout: float = ACK_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.secret = signing_secret
        self.timeout = timeout

    def post(self, body: str, content_type: str) -> BotAnswer:
        parts = urlsplit(self.url)
        headers = signed_headers(self.secret, body, content_type)
        started = time.perf_counter()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            conn.request("POST", parts.path or "/", body=body.encode(), headers=headers)
            response = conn.getresponse()
            data = response.read().decode("utf-8", "replace")
            return BotAnswer(response.status, data, response.getheader("Content-Type") or "",
                             time.perf_counter() - started)
        except TimeoutError:
            return BotAnswer(0, "", "", time.perf_counter() - started, "operation_timeout")
        except OSError as error:
            return BotAnswer(0, "", "", time.perf_counter() - started, f"dispatch_failed ({error})")
        finally:
            conn.close()

    def command(self, body: str) -> BotAnswer:
        return self.post(body, "application/x-www-form-urlencoded")

    def interaction(self, payload: dict) -> BotAnswer:
        return self.post(interaction_body(payload), "application/x-www-form-urlencoded")

    def event(self, envelope: dict) -> BotAnswer:
        return self.post(json.dumps(envelope, separators=(",", ":")), "application/json")
