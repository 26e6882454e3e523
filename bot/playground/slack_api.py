"""A small, faithful Slack: the Web API methods the bot calls, response_urls, and the state they change.

Speaks the wire format slack_sdk uses (form, query-string or JSON arguments; `{"ok": ...}` answers;
429 with Retry-After) and records every call, so tests assert on what Slack would have shown, and
the playground renders the same state as a channel, modals and an App Home.

State kept, as Slack keeps it:
* channels with messages (`ts`, threads via `thread_ts`, `metadata`), ephemeral messages per user,
  `chat.update` edits in place (`message_not_found` for an unknown ts), DMs when a message is posted
  to a user id;
* users (`users.info`, `users.lookupByEmail`; a user without `email` has it hidden), user groups;
* views: modal stacks per user (`views.open` / `push` / `update`, trigger ids that expire after 3 s
  and are single-use) and one App Home per user (`views.publish`);
* response_urls issued by `open_response_url` (at most 5 uses in 30 minutes; `replace_original`,
  `delete_original`, `response_type`; a slash command's URL replaces the message it last posted).
  A response_url the fake did not issue (`response_url(key)`) is only recorded, as the tests have
  always done.

Failure injection (for reliability tests): `failures[method] = "error_code"` answers `ok: false`;
`inject(method, status=500 | status=429, retry_after=… | drop_connection=True, apply=…, times=…)`
misbehaves after recording the call; `set_rate_limit(method, per_minute)` answers `ratelimited`
with Retry-After once a method is called too often.

Other paths (the playground page) go to `routes`, a callable set by the playground server.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.playground.waiting import wait_on

BOT_TOKEN = "xoxb-test-0000000000-fake"
TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
MAX_VIEW_STACK = 3
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass
class Received:
    kind: str  # "api" or "response_url"
    name: str  # API method name, or the response_url key
    payload: dict
    at: float = field(default_factory=time.monotonic)


@dataclass
class SlackUser:
    id: str
    name: str  # the handle, e.g. "sam"
    real_name: str
    email: str | None = None  # None: hidden (users:read.email missing, or the user hid it)
    is_bot: bool = False
    title: str = ""

    def to_json(self, team_id: str) -> dict:
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "title": self.title,
            "team": team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        return {
            "id": self.id, "team_id": team_id, "name": self.name, "real_name": self.real_name, "deleted": False,
            "is_bot": self.is_bot, "is_admin": False, "is_app_user": False, "tz": "Etc/UTC", "profile": profile,
        }


@dataclass
class Message:
    """A channel message or, with `ephemeral_to` set, an ephemeral one (visible to that user only)."""

    ts: str
    channel: str
    text: str = ""
    blocks: list | None = None
    attachments: list | None = None
    user: str | None = None  # author: the bot user for bot posts
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    metadata: dict | None = None
    ephemeral_to: str | None = None
    edited: dict | None = None
    deleted: bool = False
    command: str | None = None  # the echo of an in_channel slash command: "/transfer …"

    def to_json(self, *, replies: list[Message] = (), with_metadata: bool = False) -> dict:
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user:
            out["user"] = self.user
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = self.app_id
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.attachments:
            out["attachments"] = self.attachments
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if replies:
            out["thread_ts"] = self.ts
            out["reply_count"] = len(replies)
            out["latest_reply"] = replies[-1].ts
            out["reply_users"] = sorted({r.user for r in replies if r.user})
        if self.edited:
            out["edited"] = self.edited
        if with_metadata and self.metadata is not None:
            out["metadata"] = self.metadata
        return out


@dataclass
class Channel:
    id: str
    name: str
    im_user: str | None = None  # set for the bot's DM with a user
    members: set[str] | None = None  # None: everyone is a member
    messages: list[Message] = field(default_factory=list)

    def find(self, ts: str, *, ephemeral: bool | None = False) -> Message | None:
        for message in self.messages:
            visible = ephemeral is None or (message.ephemeral_to is not None) == ephemeral
            if message.ts == ts and not message.deleted and visible:
                return message
        return None

    def replies(self, ts: str) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == ts and m.ts != ts and not m.deleted and not m.ephemeral_to]


@dataclass
class View:
    id: str
    type: str  # "modal" or "home"
    user: str
    spec: dict  # the view object the bot sent
    hash: str
    root_view_id: str | None = None
    previous_view_id: str | None = None
    values: dict = field(default_factory=dict)  # state.values, as the page last reported them
    errors: dict = field(default_factory=dict)  # block_id -> message, from response_action: errors

    @property
    def external_id(self) -> str | None:
        return self.spec.get("external_id") or None

    def to_json(self, team_id: str, app_id: str, bot_id: str) -> dict:
        spec = self.spec
        return {
            "id": self.id, "team_id": team_id, "type": self.type, "blocks": spec.get("blocks") or [],
            "private_metadata": spec.get("private_metadata", ""), "callback_id": spec.get("callback_id", ""),
            "state": {"values": self.values}, "hash": self.hash, "title": spec.get("title"),
            "clear_on_close": bool(spec.get("clear_on_close")), "notify_on_close": bool(spec.get("notify_on_close")),
            "close": spec.get("close"), "submit": spec.get("submit"), "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id or self.id, "app_id": app_id, "external_id": spec.get("external_id", ""),
            "app_installed_team_id": team_id, "bot_id": bot_id,
        }


@dataclass
class ResponseHook:
    """Where a response_url's posts land: the interaction's channel, user and source message."""

    key: str
    channel: str
    user: str
    source_ts: str | None = None  # the message the interaction came from (replace/delete_original)
    source_ephemeral: bool = False
    command_text: str | None = None  # slash commands: echoed once when the response is in_channel
    created: float = field(default_factory=time.monotonic)
    echoed: bool = False
    last_ts: str | None = None  # the last message posted through it (the "original" without a source)


@dataclass
class Fault:
    """The next `times` calls of `method` misbehave (times=None: every call). See FakeSlack.inject."""

    method: str
    status: int | None = None
    error: str | None = None
    retry_after: int | None = None
    drop_connection: bool = False
    apply: bool = False
    delay: float = 0.0
    times: int | None = 1
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass
class Answer:
    status: int
    body: dict | None  # None: drop the connection
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HttpRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: Any
    body: bytes


@dataclass
class HttpResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class _Bucket:
    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(max(1, burst))
        self.tokens = self.capacity
        self.at = time.monotonic()

    def take(self) -> float:
        """0 when a call may go through now, else the seconds until it may."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else 60.0


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _as_json(value: Any) -> Any:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


class FakeSlack:
    def __init__(
        self,
        *,
        bot_token: str = BOT_TOKEN,
        team_id: str = "T0TEST",
        team_name: str = "Test",
        team_domain: str = "test",
        app_id: str = "A0TEST",
        bot_user_id: str = "UBOT0001",
        bot_id: str = "BBOT0001",
        bot_name: str = "transfer-bot",
        users: Iterable[SlackUser] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.received: list[Received] = []
        self.usergroups: dict[str, list[str]] = {}
        self.failures: dict[str, str] = {}  # method -> Slack error code (HTTP 200, ok: false)
        self.delay = 0.0
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out (a ws:// URL)
        self.app_token: str | None = None  # when set, apps.connections.open requires it as the Bearer token
        self.trigger_ttl = TRIGGER_TTL_SECONDS
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, Channel] = {}
        self.routes: Callable[[HttpRequest], HttpResponse | None] | None = None
        self.version = 0  # bumped on every change of visible state
        self._faults: list[Fault] = []
        self._buckets: dict[str, _Bucket] = {}
        self._views: dict[str, View] = {}
        self._stacks: dict[str, list[str]] = {}  # user -> modal view ids, root first
        self._homes: dict[str, str] = {}  # user -> home view id
        self._triggers: dict[str, tuple[str, float, bool]] = {}  # id -> (user, issued, used)
        self._hooks: dict[str, ResponseHook] = {}
        self._hook_uses: dict[str, int] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Condition(threading.RLock())
        self.add_user(SlackUser(bot_user_id, bot_name, bot_name, is_bot=True))
        for user in users:
            self.add_user(user)
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-slack", daemon=True)

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
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}/response/{key}"

    # ---- set-up ----
    def add_user(self, user: SlackUser) -> SlackUser:
        with self._lock:
            self.users[user.id] = user
        return user

    def add_channel(self, channel_id: str, name: str, *, members: Iterable[str] | None = None) -> Channel:
        with self._lock:
            channel = self.channels.get(channel_id) or Channel(channel_id, name)
            channel.name = name
            channel.members = set(members) if members is not None else None
            self.channels[channel_id] = channel
            return channel

    def issue_trigger(self, user: str) -> str:
        """A trigger_id as Slack puts in an interaction payload: usable once, for TRIGGER_TTL_SECONDS."""
        trigger = f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        with self._lock:
            self._triggers[trigger] = (user, time.monotonic(), False)
        return trigger

    def open_response_url(
        self, *, channel: str, user: str, source_ts: str | None = None, ephemeral: bool = False,
        command_text: str | None = None,
    ) -> str:
        """A response_url whose posts land in `channel` for `user` (see ResponseHook)."""
        key = uuid.uuid4().hex
        with self._lock:
            self._hooks[key] = ResponseHook(key, channel, user, source_ts, ephemeral, command_text)
        return self.response_url(key)

    def inject(
        self, method: str, *, status: int | None = None, error: str | None = None, retry_after: int | None = None,
        drop_connection: bool = False, apply: bool = False, delay: float = 0.0, times: int | None = 1,
    ) -> Fault:
        """Make the next `times` calls of `method` ("response_url" for response_url posts) misbehave.

        The call is always recorded first. status=500 (or any 5xx) answers `fatal_error`; status=429
        answers `ratelimited` with Retry-After (default 1); error="x" alone answers HTTP 200 `ok: false`;
        drop_connection closes the socket without answering. apply=True performs the call (a message is
        posted) before misbehaving, like a response lost on the way back.
        """
        fault = Fault(method, status, error, retry_after, drop_connection, apply, delay, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._buckets.clear()

    def set_rate_limit(self, method: str, per_minute: float | None, *, burst: int = 1) -> None:
        """Slack's per-method limit: beyond it, HTTP 429 `ratelimited` with Retry-After. None lifts it."""
        with self._lock:
            if per_minute is None:
                self._buckets.pop(method, None)
            else:
                self._buckets[method] = _Bucket(per_minute, burst)

    # ---- inspection (tests) ----
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

    # ---- inspection (the playground) ----
    def wait_change(self, since: int, timeout: float) -> int:
        """Block until `version` differs from `since` (or timeout); returns the current version."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.version == since:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            return self.version

    def touch(self) -> None:
        """Tell the page something changed that the fake does not track (e.g. an event's answer)."""
        with self._lock:
            self._changed()

    def names(self) -> tuple[dict[str, str], dict[str, str]]:
        """(user id -> real name, channel id -> name) for rendering mentions; DMs are left out."""
        with self._lock:
            users = {u.id: u.real_name for u in self.users.values()}
            channels = {c.id: c.name for c in self.channels.values() if c.im_user is None}
        return users, channels

    def recent(self, count: int) -> list[Received]:
        with self._lock:
            return list(self.received[-count:])

    def timeline(self, channel_id: str, viewer: str) -> list[tuple[Message, list[Message]]]:
        """Top-level messages the viewer can see, oldest first, each with its visible thread replies."""
        with self._lock:
            channel = self.channels.get(channel_id)
            if channel is None:
                return []
            visible = [m for m in channel.messages if not m.deleted and m.ephemeral_to in (None, viewer)]
            top = [m for m in visible if not m.thread_ts or m.thread_ts == m.ts]
            return [(m, [r for r in visible if r.thread_ts == m.ts and r is not m]) for m in top]

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        with self._lock:
            channel = self.channels.get(channel_id)
            return channel.find(ts, ephemeral=None) if channel else None

    def dm_channel(self, user: str) -> Channel:
        with self._lock:
            return self._im(user)

    def modal_stack(self, user: str) -> list[View]:
        with self._lock:
            return [self._views[v] for v in self._stacks.get(user, [])]

    def home(self, user: str) -> View | None:
        with self._lock:
            view_id = self._homes.get(user)
            return self._views.get(view_id) if view_id else None

    def view(self, view_id: str) -> View | None:
        with self._lock:
            return self._views.get(view_id)

    def view_json(self, view: View) -> dict:
        return view.to_json(self.team_id, self.app_id, self.bot_id)

    # ---- what people do (the playground) ----
    def post_as_user(self, channel_id: str, user: str, text: str, *, thread_ts: str | None = None) -> Message:
        with self._lock:
            channel = self._channel(channel_id)
            message = Message(self._new_ts(), channel.id, text=_slack_escape(text), user=user, thread_ts=thread_ts)
            channel.messages.append(message)
            self._changed()
            return message

    def post_ephemeral_as(self, channel_id: str, user: str, text: str, *, blocks: list | None = None,
                          author: str | None = None) -> Message:
        """An ephemeral message as Slack shows it (an ack body, a Slackbot notice); author None = the bot."""
        with self._lock:
            channel = self._channel(channel_id)
            message = Message(self._new_ts(), channel.id, text=text, blocks=blocks, ephemeral_to=user,
                              user=author or self.bot_user_id, bot_id=None if author else self.bot_id,
                              app_id=self.app_id)
            channel.messages.append(message)
            self._changed()
            return message

    def post_as_bot(self, channel_id: str, body: dict, *, command: tuple[str, str] | None = None) -> Message:
        """A bot message (an in_channel ack); `command` (user, "/transfer …") is echoed first, as Slack does."""
        with self._lock:
            channel = self._channel(channel_id)
            if command is not None:
                channel.messages.append(Message(self._new_ts(), channel.id, text=command[1], user=command[0],
                                                command=command[1]))
            message = self._bot_message(channel, body)
            channel.messages.append(message)
            self._changed()
            return message

    def set_view_values(self, view_id: str, values: dict) -> None:
        with self._lock:
            view = self._views.get(view_id)
            if view is not None:
                view.values = values

    def close_view(self, user: str, view_id: str, *, clear: bool = False) -> list[View]:
        """The user closed the top modal (or all of them): returns the closed views."""
        with self._lock:
            stack = self._stacks.get(user, [])
            if view_id not in stack:
                return []
            closed_ids = stack[:] if clear else stack[stack.index(view_id):]
            self._stacks[user] = [v for v in stack if v not in closed_ids]
            self._changed()
            return [self._views[v] for v in closed_ids]

    def submission_answered(self, user: str, view_id: str, ack: dict | None) -> str:
        """Apply a view_submission ack as Slack does; returns what happened (closed, errors, update, …)."""
        ack = ack or {}
        action = ack.get("response_action")
        with self._lock:
            view = self._views.get(view_id)
            if view is None:
                return "gone"
            if action == "errors":
                view.errors = dict(ack.get("errors") or {})
                self._changed()
                return "errors"
            view.errors = {}
            if action == "update" and isinstance(ack.get("view"), dict):
                view.spec = ack["view"]
                view.hash = _hash()
                self._changed()
                return "update"
            if action == "push" and isinstance(ack.get("view"), dict):
                self._push(user, ack["view"])
                return "push"
            self.close_view(user, view_id, clear=action == "clear")
            return "clear" if action == "clear" else "closed"

    # ---- the Web API ----
    def _changed(self) -> None:
        self.version += 1
        self._lock.notify_all()

    def _record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)
            self._lock.notify_all()

    def _new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _im(self, user: str) -> Channel:
        for channel in self.channels.values():
            if channel.im_user == user:
                return channel
        channel = Channel("D" + user[1:], user, im_user=user)
        self.channels[channel.id] = channel
        return channel

    def _channel(self, channel_id: str | None) -> Channel:
        """A known channel, a user's DM with the bot, or (leniently) any C…/G… id seen for the first time."""
        if not channel_id:
            raise _SlackError("channel_not_found")
        if channel_id in self.channels:
            return self.channels[channel_id]
        if _USER_ID.match(channel_id):
            return self._im(channel_id)
        if _CHANNEL_ID.match(channel_id):
            return self.add_channel(channel_id, channel_id.lower())
        name = channel_id.lstrip("#")
        for channel in self.channels.values():
            if channel.name == name and channel.im_user is None:
                return channel
        raise _SlackError("channel_not_found")

    def _bot_message(self, channel: Channel, payload: dict, *, ephemeral_to: str | None = None) -> Message:
        text, blocks, attachments = payload.get("text"), _as_json(payload.get("blocks")), _as_json(
            payload.get("attachments"))
        if not text and not blocks and not attachments:
            raise _SlackError("no_text")
        thread_ts = payload.get("thread_ts") or None
        metadata = _as_json(payload.get("metadata"))
        return Message(
            self._new_ts(), channel.id, text=text or "", blocks=blocks, attachments=attachments,
            user=self.bot_user_id, bot_id=self.bot_id, app_id=self.app_id, thread_ts=thread_ts,
            metadata=metadata if isinstance(metadata, dict) else None, ephemeral_to=ephemeral_to,
        )

    def _take_trigger(self, trigger_id: str | None) -> str:
        if not trigger_id:
            raise _SlackError("invalid_arguments")
        found = self._triggers.get(trigger_id)
        if found is None:
            raise _SlackError("invalid_trigger_id")
        user, issued, used = found
        if used:
            raise _SlackError("exchanged_trigger_id")
        if time.monotonic() - issued > self.trigger_ttl:
            raise _SlackError("expired_trigger_id")
        self._triggers[trigger_id] = (user, issued, True)
        return user

    def _new_view(self, user: str, spec: Any, kind: str) -> View:
        if not isinstance(spec, dict) or spec.get("type") != kind:
            raise _SlackError("invalid_arguments")
        view = View("V" + secrets.token_hex(5).upper(), kind, user, spec, _hash())
        self._views[view.id] = view
        return view

    def _push(self, user: str, spec: Any) -> View:
        stack = self._stacks.get(user) or []
        if not stack:
            raise _SlackError("not_found")
        if len(stack) >= MAX_VIEW_STACK:
            raise _SlackError("push_limit_reached")
        view = self._new_view(user, spec, "modal")
        view.root_view_id, view.previous_view_id = stack[0], stack[-1]
        stack.append(view.id)
        self._changed()
        return view

    def _view_answer(self, view: View) -> tuple[int, dict]:
        return 200, {"ok": True, "view": self.view_json(view)}

    def _call(self, method: str, p: dict) -> tuple[int, dict]:
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        return handler(p) if handler else (200, {"ok": True})

    # One method per Web API method: _m_<family>_<name>(arguments) -> (HTTP status, body).
    def _m_apps_connections_open(self, p: dict) -> tuple[int, dict]:
        if self.socket_mode_url is not None:
            return 200, {"ok": True, "url": self.socket_mode_url}
        return 200, {"ok": True}

    def _m_auth_test(self, p: dict) -> tuple[int, dict]:
        # app_id: Slack's own SDKs type it as part of auth.test's answer for bot tokens (AuthTestResponse).
        return 200, {"ok": True, "url": f"https://{self.team_domain}.slack.com/", "team": self.team_name,
                     "user": self.bot_name, "team_id": self.team_id, "user_id": self.bot_user_id,
                     "bot_id": self.bot_id, "app_id": self.app_id, "is_enterprise_install": False}

    def _m_chat_postMessage(self, p: dict) -> tuple[int, dict]:
        channel = self._channel(p.get("channel"))
        if channel.members is not None and self.bot_user_id not in channel.members:
            raise _SlackError("not_in_channel")
        message = self._bot_message(channel, p)
        channel.messages.append(message)
        self._changed()
        return 200, {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.to_json()}

    def _m_chat_update(self, p: dict) -> tuple[int, dict]:
        channel = self._channel(p.get("channel"))
        message = channel.find(str(p.get("ts") or ""))
        if message is None:
            raise _SlackError("message_not_found")
        if message.user != self.bot_user_id:
            raise _SlackError("cant_update_message")
        # Like Slack: blocks/attachments left out are kept; an empty list removes them.
        for key in ("blocks", "attachments"):
            if key in p:
                setattr(message, key, _as_json(p[key]) or None)
        if "text" in p:
            message.text = p.get("text") or ""
        if "metadata" in p:
            metadata = _as_json(p["metadata"])
            message.metadata = metadata if isinstance(metadata, dict) else None
        message.edited = {"user": self.bot_user_id, "ts": self._new_ts()}
        self._changed()
        return 200, {"ok": True, "channel": channel.id, "ts": message.ts, "text": message.text,
                     "message": message.to_json()}

    def _m_chat_delete(self, p: dict) -> tuple[int, dict]:
        channel = self._channel(p.get("channel"))
        message = channel.find(str(p.get("ts") or ""))
        if message is None:
            raise _SlackError("message_not_found")
        message.deleted = True
        self._changed()
        return 200, {"ok": True, "channel": channel.id, "ts": message.ts}

    def _m_chat_postEphemeral(self, p: dict) -> tuple[int, dict]:
        channel = self._channel(p.get("channel"))
        user = p.get("user")
        if not user or (channel.members is not None and user not in channel.members):
            raise _SlackError("user_not_in_channel")
        message = self._bot_message(channel, p, ephemeral_to=user)
        channel.messages.append(message)
        self._changed()
        return 200, {"ok": True, "message_ts": message.ts}

    def _m_conversations_replies(self, p: dict) -> tuple[int, dict]:
        channel = self._channel(p.get("channel"))
        parent = channel.find(str(p.get("ts") or ""))
        if parent is None:
            raise _SlackError("thread_not_found")
        replies = channel.replies(parent.ts)
        with_metadata = _truthy(p.get("include_all_metadata"))
        messages = [parent.to_json(replies=replies, with_metadata=with_metadata)]
        messages += [r.to_json(with_metadata=with_metadata) for r in replies]
        return 200, {"ok": True, "messages": messages, "has_more": False}

    def _m_users_info(self, p: dict) -> tuple[int, dict]:
        user = self.users.get(str(p.get("user") or ""))
        if user is None:
            raise _SlackError("user_not_found")
        return 200, {"ok": True, "user": user.to_json(self.team_id)}

    def _m_users_lookupByEmail(self, p: dict) -> tuple[int, dict]:
        email = str(p.get("email") or "").lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email:
                return 200, {"ok": True, "user": user.to_json(self.team_id)}
        raise _SlackError("users_not_found")

    def _m_usergroups_users_list(self, p: dict) -> tuple[int, dict]:
        group = p.get("usergroup")
        if group not in self.usergroups:
            raise _SlackError("no_such_subteam")
        return 200, {"ok": True, "users": self.usergroups[group]}

    def _m_views_open(self, p: dict) -> tuple[int, dict]:
        spec = _as_json(p.get("view"))
        user = self._take_trigger(p.get("trigger_id"))
        view = self._new_view(user, spec, "modal")
        self._stacks[user] = [view.id]
        self._changed()
        return self._view_answer(view)

    def _m_views_push(self, p: dict) -> tuple[int, dict]:
        user = self._take_trigger(p.get("trigger_id"))
        return self._view_answer(self._push(user, _as_json(p.get("view"))))

    def _m_views_update(self, p: dict) -> tuple[int, dict]:
        view = self._find_view(p)
        spec = _as_json(p.get("view"))
        if not isinstance(spec, dict) or spec.get("type") != view.type:
            raise _SlackError("invalid_arguments")
        if p.get("hash") and p["hash"] != view.hash:
            raise _SlackError("hash_conflict")
        view.spec, view.hash, view.errors = spec, _hash(), {}
        self._changed()
        return self._view_answer(view)

    def _m_views_publish(self, p: dict) -> tuple[int, dict]:
        user = str(p.get("user_id") or "")
        spec = _as_json(p.get("view"))
        if not user:
            raise _SlackError("invalid_arguments")
        current = self._views.get(self._homes.get(user, ""))
        if current is None:
            current = self._new_view(user, spec, "home")
            self._homes[user] = current.id
        else:
            if not isinstance(spec, dict) or spec.get("type") != "home":
                raise _SlackError("invalid_arguments")
            if p.get("hash") and p["hash"] != current.hash:
                raise _SlackError("hash_conflict")
            current.spec, current.hash = spec, _hash()
        self._changed()
        return self._view_answer(current)

    def _m_conversations_history(self, p: dict) -> tuple[int, dict]:
        return self._history(p)

    def _find_view(self, p: dict) -> View:
        view_id, external_id = p.get("view_id"), p.get("external_id")
        if view_id:
            view = self._views.get(view_id)
        else:
            view = next((v for v in self._views.values() if external_id and v.external_id == external_id), None)
        if view is None or (view.type == "modal" and view.id not in self._stacks.get(view.user, [])):
            raise _SlackError("not_found")
        return view

    def _history(self, p: dict) -> tuple[int, dict]:
        channel = self._channel(p.get("channel"))
        with_metadata = _truthy(p.get("include_all_metadata"))
        latest, oldest = p.get("latest"), p.get("oldest")
        inclusive = _truthy(p.get("inclusive"))
        tops = [m for m in channel.messages
                if not m.deleted and not m.ephemeral_to and (not m.thread_ts or m.thread_ts == m.ts)]

        def within(m: Message) -> bool:
            t = float(m.ts)
            if latest and (t > float(latest) or (t == float(latest) and not inclusive)):
                return False
            return not (oldest and (t < float(oldest) or (t == float(oldest) and not inclusive)))

        newest_first = [m for m in reversed(tops) if within(m)]
        start = int(p.get("cursor") or 0)
        limit = max(1, min(999, int(p.get("limit") or 100)))
        page = newest_first[start:start + limit]
        more = start + limit < len(newest_first)
        return 200, {
            "ok": True, "has_more": more, "pin_count": 0,
            "messages": [m.to_json(replies=channel.replies(m.ts), with_metadata=with_metadata) for m in page],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _respond(self, key: str, p: dict) -> tuple[int, dict]:
        """A post to a response_url: Slack's message responses (ephemeral by default)."""
        uses = self._hook_uses[key] = self._hook_uses.get(key, 0) + 1
        if uses > RESPONSE_URL_MAX_USES:
            return 404, {"ok": False, "error": "used_url"}
        hook = self._hooks.get(key)
        if hook is None:
            return 200, {"ok": True}  # not issued here: only recorded (the tests' response_urls)
        if time.monotonic() - hook.created > RESPONSE_URL_TTL_SECONDS:
            return 404, {"ok": False, "error": "expired_url"}
        channel = self._channel(hook.channel)
        # Without a source message (a slash command's URL), the original is what the URL last posted.
        original = hook.source_ts or hook.last_ts
        source = channel.find(original, ephemeral=None) if original else None
        has_body = bool(p.get("text") or p.get("blocks") or p.get("attachments"))
        if _truthy(p.get("delete_original")) and source is not None:
            source.deleted = True
            self._changed()
            if not has_body:
                return 200, {"ok": True}
        elif _truthy(p.get("replace_original")) and source is not None:
            if not has_body:
                raise _SlackError("no_text")
            source.text = p.get("text") or ""
            source.blocks = _as_json(p.get("blocks")) or None
            source.attachments = _as_json(p.get("attachments")) or None
            self._changed()
            return 200, {"ok": True}
        in_channel = p.get("response_type") == "in_channel"
        message = self._bot_message(channel, p, ephemeral_to=None if in_channel else hook.user)
        if in_channel and hook.command_text and not hook.echoed:
            hook.echoed = True
            channel.messages.append(Message(self._new_ts(), channel.id, text=_slack_escape(hook.command_text),
                                            user=hook.user, command=hook.command_text))
        channel.messages.append(message)
        hook.last_ts = message.ts
        self._changed()
        return 200, {"ok": True}

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and not fault.exhausted:
                fault.hits += 1
                return fault
        return None

    def _answer(self, kind: str, name: str, payload: dict, auth: str) -> Answer:
        """Record, then: injected fault, rate limit, auth, and finally the method itself."""
        self._record(Received(kind, name, payload))
        with self._lock:
            fault = self._take_fault("response_url" if kind == "response_url" else name)
            bucket = self._buckets.get(name) if kind == "api" else None
            wait = bucket.take() if bucket else 0.0
        if fault and fault.delay:
            time.sleep(fault.delay)
        if wait and not fault:
            return Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(max(1, math.ceil(wait)))})
        if fault is None or fault.apply:
            status, body = self._perform(kind, name, payload, auth)
            if fault is None:
                return Answer(status, body)
        if fault.drop_connection:
            return Answer(0, None)
        if fault.status == 429:
            return Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after or 1)})
        if fault.status or fault.error:
            return Answer(fault.status or 200, {"ok": False, "error": fault.error or "fatal_error"})
        if fault.apply:
            return Answer(status, body)
        status, body = self._perform(kind, name, payload, auth)  # a fault that only delays
        return Answer(status, body)

    def _perform(self, kind: str, name: str, payload: dict, auth: str) -> tuple[int, dict]:
        with self._lock:
            try:
                if kind == "response_url":
                    return self._respond(name, payload)
                token = auth[7:] if auth.startswith("Bearer ") else str(payload.get("token") or "")
                if name == "apps.connections.open":
                    if self.app_token is not None and token != self.app_token:
                        return 200, {"ok": False, "error": "invalid_auth"}
                elif token != self.bot_token:
                    return 200, {"ok": False, "error": "invalid_auth"}
                if name in self.failures:
                    return 200, {"ok": False, "error": self.failures[name]}
                return self._call(name, payload)
            except _SlackError as error:
                return 200, {"ok": False, "error": error.code}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"fake": self})


class _SlackError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def _slack_escape(text: str) -> str:
    """What Slack stores for text a person typed: &, < and > as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _decode(raw: str, content_type: str) -> dict:
    if "json" in content_type:
        value = json.loads(raw or "{}")
        return value if isinstance(value, dict) else {"value": value}
    form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    for key in ("blocks", "attachments", "view", "metadata"):
        if isinstance(form.get(key), str):
            with contextlib.suppress(ValueError):
                form[key] = json.loads(form[key])
    return form


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack  # set by FakeSlack._handler on a subclass
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length))

    def _handle(self, raw: bytes) -> None:
        if self.fake.delay:
            time.sleep(self.fake.delay)
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path.startswith(("/api/", "/response/")):
            self._slack(parts.path, query, raw)
            return
        response = None
        if self.fake.routes is not None:
            response = self.fake.routes(HttpRequest(self.command, parts.path, query, self.headers, raw))
        self._send(response or HttpResponse(404, b'{"ok": false, "error": "unknown_path"}'))

    def _slack(self, path: str, query: dict, raw: bytes) -> None:
        """The Web API and response_urls: record, answer (or fail as injected)."""
        try:
            body = _decode(raw.decode("utf-8", "replace"), self.headers.get("Content-Type", ""))
        except ValueError:
            self._send(HttpResponse(200, b'{"ok": false, "error": "invalid_json"}'))
            return
        payload = {**query, **body}
        if path.startswith("/api/"):
            answer = self.fake._answer("api", path[len("/api/"):], payload, self.headers.get("Authorization", ""))
        else:
            answer = self.fake._answer("response_url", path[len("/response/"):], payload, "")
        if answer.body is None:
            self._drop()
            return
        self._send(HttpResponse(answer.status, json.dumps(answer.body).encode(), headers=answer.headers))

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(response.body)
