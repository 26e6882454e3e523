"""The playground page and what it does: people act, the bot gets the signed requests Slack would send.

The page (static/) asks this module for rendered HTML and reports clicks, typing and submissions.
Each one becomes a real Slack payload (payloads.py), signed and POSTed to the bot's /slack/events.
The bot's ack is rendered as Slack renders it (a slash command's ack body shown to the user
ephemerally, a view_submission's `response_action`, a block_suggestion's `options`), and what the
bot then sends to the Web API lands in the FakeSlack that serves this page, which renders its state.

Everything is served by the FakeSlack's HTTP server: `/api/…` (Web API), `/response/…`
(response_urls) and `/playground…` (this module, installed as `FakeSlack.routes`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.playground import payloads
from bot.playground.genesys import MODES, SimulatedOrg
from bot.playground.render import Names, Surface, esc, message_body, plain, raw_json, text_object
from bot.playground.render import blocks as render_blocks
from bot.playground.slack_api import FakeSlack, HttpRequest, HttpResponse, Message, SlackUser, View

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
POLL_SECONDS = 1.5  # a state request waits this long for a change (the Genesys panel refreshes at least this often)
SLACKBOT = "USLACKBOT"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Person:
    id: str
    handle: str
    real_name: str
    email: str | None
    role: str  # requester | approver | agent
    about: str


@dataclass(frozen=True)
class Shortcut:
    name: str
    type: str  # "global" or "message"
    callback_id: str


PEOPLE = (
    Person("U0RILEY", "riley", "Riley Requester", "riley@example.com", "requester", "team lead, not an approver"),
    Person("U0SAM", "sam", "Sam Supervisor", "sam@example.com", "approver", "approver"),
    Person("U0JORDAN", "jordan", "Jordan Lead", "jordan@example.com", "approver", "approver"),
    Person("U0ALICE", "alice", "Alice Agent", "alice@example.com", "agent", "agent on a simulated call"),
)
CHANNEL_ID, CHANNEL_NAME = "C0SUPPORT", "support-floor"
DEFAULT_SHORTCUTS = (
    Shortcut("Transfer call", "global", "transfer_call"),
    Shortcut("Transfer call", "message", "transfer_call_from_message"),
)


def manifest_features(path: Path = ROOT / "manifest.yml") -> tuple[list[str], list[Shortcut]]:
    """Slash commands and shortcuts from the app manifest; the coming shortcuts when it lists none."""
    commands, shortcuts = ["/transfer"], list(DEFAULT_SHORTCUTS)
    try:
        import yaml

        features = (yaml.safe_load(path.read_text()) or {}).get("features") or {}
    except (OSError, ValueError, ImportError):
        return commands, shortcuts
    listed = [c.get("command") for c in features.get("slash_commands") or [] if c.get("command")]
    declared = [Shortcut(s.get("name", s.get("callback_id", "")), s.get("type", "global"), s["callback_id"])
                for s in features.get("shortcuts") or [] if s.get("callback_id")]
    return listed or commands, declared or shortcuts


def _hash(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _clock(ts: str) -> str:
    return datetime.fromtimestamp(float(ts), UTC).strftime("%H:%M")


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split()[:2]).upper() or "?"


class Playground:
    def __init__(self, *, slack: FakeSlack, org: SimulatedOrg, bot: payloads.BotEndpoint,
                 people: tuple[Person, ...] = PEOPLE, channel: tuple[str, str] = (CHANNEL_ID, CHANNEL_NAME),
                 commands: list[str] | None = None, shortcuts: list[Shortcut] | None = None) -> None:
        self.slack = slack
        self.org = org
        self.bot = bot
        self.people = people
        self.channel_id, self.channel_name = channel
        found_commands, found_shortcuts = manifest_features()
        self.commands = commands or found_commands
        self.shortcuts = shortcuts or found_shortcuts
        self.ws = payloads.Workspace(slack.team_id, slack.team_domain, slack.app_id)
        self.traffic: deque[dict] = deque(maxlen=40)  # what the page sent to the bot, and the bot's answers
        self._home_answers: dict[str, str] = {}
        self._lock = threading.Lock()
        slack.add_user(SlackUser(SLACKBOT, "slackbot", "Slackbot", is_bot=True))
        for p in people:
            slack.add_user(SlackUser(p.id, p.handle, p.real_name, p.email))
        slack.add_channel(self.channel_id, self.channel_name)
        slack.routes = self.handle

    # ------------------------------------------------------------------ HTTP
    def handle(self, req: HttpRequest) -> HttpResponse | None:
        if not (req.path in ("/", "/playground") or req.path.startswith("/playground/")):
            return None
        host = (req.headers.get("Host") or "").rsplit(":", 1)[0]
        if host not in LOCAL_HOSTS:  # a page served elsewhere reaching us through DNS rebinding
            return _json({"ok": False, "note": f"the playground answers only on 127.0.0.1, not {host!r}"}, 421)
        try:
            return self._route(req)
        except (KeyError, TypeError, ValueError) as error:
            return _json({"ok": False, "note": f"bad request: {error!r}"}, 400)
        except Exception as error:
            log.exception("playground request %s %s failed", req.method, req.path)
            return _json({"ok": False, "note": f"the playground failed: {error!r}"}, 500)

    def _route(self, req: HttpRequest) -> HttpResponse | None:
        if req.path in ("/", "/playground", "/playground/"):
            return self._static("index.html")
        if req.path.startswith("/playground/static/"):
            return self._static(req.path.rsplit("/", 1)[-1])
        if req.method == "GET" and req.path == "/playground/config":
            return _json(self.config())
        if req.method == "GET" and req.path == "/playground/state":
            since = int(req.query.get("since") or -1)
            if since == self.slack.version:
                self.slack.wait_change(since, POLL_SECONDS)
            return _json(self.state(req.query.get("user") or self.people[0].id, req.query.get("place") or "",
                                    traffic=req.query.get("traffic") == "1"))
        if req.method == "POST" and req.path.startswith("/playground/"):
            name = req.path[len("/playground/"):]
            handler = getattr(self, f"do_{name}", None) if name.isidentifier() else None
            if handler is None:
                return None
            if "application/json" not in (req.headers.get("Content-Type") or ""):
                # Only the page's fetch() sends JSON; a cross-site form can't without a CORS preflight.
                return _json({"ok": False, "note": "expected application/json"}, 415)
            try:
                body = json.loads(req.body or b"{}")
            except ValueError:
                return _json({"ok": False, "note": "the page sent malformed JSON"}, 400)
            return _json(handler(body))
        return None

    def _static(self, name: str) -> HttpResponse | None:
        path = STATIC / name
        if path.suffix not in STATIC_TYPES or path.parent != STATIC or not path.is_file():
            return None
        return HttpResponse(200, path.read_bytes(), STATIC_TYPES[path.suffix], {"Cache-Control": "no-cache"})

    # ------------------------------------------------------------------ reading
    def config(self) -> dict:
        return {
            "people": [asdict(p) for p in self.people],
            "channel": {"id": self.channel_id, "name": self.channel_name},
            "commands": self.commands,
            "shortcuts": [asdict(s) for s in self.shortcuts],
            "modes": list(MODES),
            "team": self.slack.team_name,
            "bot": self.slack.bot_name,
        }

    def names(self) -> Names:
        users, channels = self.slack.names()
        return Names(users, channels)

    def surface(self, view: View | None = None) -> Surface:
        names = self.names()
        return Surface(
            names=names,
            users=[(p.id, p.real_name) for p in self.people],
            channels=sorted(names.channels.items(), key=lambda kv: kv[1]),
            values=view.values if view else {},
            errors=view.errors if view else {},
        )

    def state(self, user: str, place: str, *, traffic: bool = False) -> dict:
        """Every region of the page for this user, rendered; the traffic log only when it is open."""
        version = self.slack.version
        stack = self.slack.modal_stack(user)
        top = stack[-1] if stack else None
        if place == "home":
            main = self.render_home(user)
        elif place == "messages":
            main = self.render_timeline(self.slack.dm_channel(user).id, user)
        else:
            main = self.render_timeline(self.channel_id, user)
        modal = None
        if top is not None:
            modal = {"key": _hash(top.id, top.hash, top.errors, len(stack)), "view_id": top.id,
                     "html": self.render_modal(top, len(stack))}
        genesys = self.render_genesys()
        log_html = self.render_traffic() if traffic else None
        return {"version": version, "main": main, "main_key": _hash(main), "modal": modal,
                "genesys": genesys, "genesys_key": _hash(genesys), "traffic": log_html,
                "traffic_key": _hash(log_html) if traffic else None}

    # ------------------------------------------------------------------ rendering
    def render_message(self, m: Message, viewer: str, surface: Surface, *, reply: bool = False) -> str:
        author = surface.names.user(m.user or "") if m.user else "unknown"
        is_bot = m.bot_id is not None or m.user == SLACKBOT
        badge = '<span class="badge">APP</span>' if m.bot_id else ""
        edited = '<span class="edited">(edited)</span>' if m.edited and not m.blocks else ""
        only = ""
        if m.ephemeral_to:
            only = '<div class="only-you">👁 Only visible to you</div>'
        if m.command:
            body = f'<div class="block text command-echo">{esc(m.command)}</div>'
        else:
            body = message_body(m.text, m.blocks, m.attachments, surface)
        classes = "message" + (" ephemeral" if m.ephemeral_to else "") + (" reply" if reply else "") + (
            " from-bot" if is_bot else "")
        menu = "" if m.ephemeral_to else (
            '<button type="button" class="more" data-kind="message-menu" title="More actions">⋯</button>')
        return (
            f'<div class="{classes}" data-channel="{esc(m.channel)}" data-ts="{esc(m.ts)}"'
            f' data-ephemeral="{str(bool(m.ephemeral_to)).lower()}">'
            f'<div class="avatar{" bot" if is_bot else ""}">{esc(_initials(author))}</div>'
            f'<div class="content"><div class="meta"><span class="author">{esc(author)}</span>{badge}'
            f'<span class="time">{_clock(m.ts)}</span>{edited}</div>{only}<div class="body">{body}</div></div>'
            f"{menu}</div>"
        )

    def render_timeline(self, channel_id: str, viewer: str) -> str:
        surface = self.surface()
        items = []
        for message, replies in self.slack.timeline(channel_id, viewer):
            html = self.render_message(message, viewer, surface)
            if replies:
                inner = "".join(self.render_message(r, viewer, surface, reply=True) for r in replies)
                label = f"{len(replies)} repl{'y' if len(replies) == 1 else 'ies'}"
                html += f'<div class="thread"><div class="thread-label">🧵 {label}</div>{inner}</div>'
            items.append(f'<div class="item">{html}</div>')
        if not items:
            return '<div class="empty">No messages yet. Type <code>/transfer</code> below to start.</div>'
        return "".join(items)

    def render_home(self, user: str) -> str:
        home = self.slack.home(user)
        if home is None:
            text = "The bot has not published an App Home for you."
            if user in self._home_answers:
                text += (" Opening this tab sent it <code>app_home_opened</code>; it answered "
                         f"{esc(self._home_answers[user])}.")
            return f'<div class="empty">{text}</div>'
        inner = render_blocks(home.spec.get("blocks") or [], self.surface(home))
        return f'<div class="home" data-view-id="{esc(home.id)}">{inner}</div>'

    def render_modal(self, view: View, depth: int) -> str:
        spec = view.spec
        surface = self.surface(view)
        try:
            title = text_object(spec.get("title") or "", surface.names)
        except ValueError:
            title = raw_json(spec.get("title"), "malformed title")
        close = plain(spec.get("close") or "Cancel")
        submit = ""
        if spec.get("submit") or any(b.get("type") == "input" for b in spec.get("blocks") or [] if isinstance(b, dict)):
            submit = (f'<button type="button" class="btn btn-primary" data-kind="submit-view">'
                      f'{esc(plain(spec.get("submit") or "Submit"))}</button>')
        errors = ""
        unknown = {k: v for k, v in view.errors.items()
                   if k not in {b.get("block_id") for b in spec.get("blocks") or [] if isinstance(b, dict)}}
        if unknown:
            errors = raw_json(unknown, "errors for blocks not in this view")
        return (
            f'<div class="modal" data-view-id="{esc(view.id)}" data-callback-id="{esc(spec.get("callback_id", ""))}">'
            f'<div class="modal-header"><span class="modal-title">{title}</span>'
            f'<span class="modal-depth">{"view " + str(depth) + " of stack" if depth > 1 else ""}</span>'
            f'<button type="button" class="x" data-kind="close-view" title="Close">×</button></div>'
            f'<div class="modal-body">{render_blocks(spec.get("blocks") or [], surface)}{errors}</div>'
            f'<div class="modal-footer"><button type="button" class="btn" data-kind="close-view">{esc(close)}</button>'
            f"{submit}</div></div>"
        )

    def render_genesys(self) -> str:
        calls = self.org.calls()
        queues = self.org.queues(calls)
        modes = "".join(
            f'<button type="button" class="btn mode{" active" if m == self.org.mode else ""}" data-genesys="mode"'
            f' data-mode="{m}">{m.capitalize()}</button>' for m in MODES)
        rows = []
        for c in calls:
            agents = ", ".join(c.agents) or "no agent"
            moved = f'<div class="moved">↪ moved from {esc(c.moved_from)}</div>' if c.moved_from else ""
            end = (f'<button type="button" class="btn small" data-genesys="end_call" data-call-id="{esc(c.id)}">'
                   "End</button>" if c.live else "")
            use = (f'<button type="button" class="btn small" data-kind="use-call" data-call-id="{esc(c.id)}"'
                   f' title="Put /transfer {esc(c.id)} in the message box">/transfer</button>' if c.live else "")
            status = esc(c.status) + (f" <b>{esc(c.queue)}</b>" if c.status == "waiting in queue" and c.queue else "")
            rows.append(
                f'<div class="call{"" if c.live else " ended"}" data-call-id="{esc(c.id)}"'
                f' data-queue="{esc(c.queue or "")}" data-status="{esc(c.status)}">'
                f'<div class="call-head"><code title="{esc(c.id)}">{esc(c.short_id)}</code>'
                f'<span class="status">{status}</span><span class="media">{esc(c.media)}</span>{use}{end}</div>'
                f'<div class="call-facts">Agent: {esc(agents)} · Queue: {esc(c.queue or "none")}</div>{moved}</div>')
        queue_rows = "".join(
            f'<tr data-queue-id="{esc(q.id)}"><td>{esc(q.name)}</td><td>{esc(q.division)}</td>'
            f'<td>{q.agents_available} / {q.agents_joined}</td><td class="waiting">{q.waiting}</td>'
            f'<td><button type="button" class="btn small" data-genesys="new_call" data-queue-id="{esc(q.id)}"'
            f' title="Start a call connected to an agent from this queue">+ call</button></td></tr>'
            for q in queues)
        return (
            f'<div class="org-modes"><span>Genesys:</span>{modes}</div>'
            f'<div class="org-head"><h3>Calls</h3><button type="button" class="btn small" data-genesys="new_call">'
            f'+ New call</button></div>{"".join(rows) or "<div class=empty>No calls.</div>"}'
            f'<h3>Queues</h3><table class="queues"><tr><th>Queue</th><th>Division</th><th>Agents free</th>'
            f"<th>Waiting</th><th></th></tr>{queue_rows}</table>"
        )

    def render_traffic(self) -> str:
        with self._lock:
            sent = list(self.traffic)
        received = self.slack.recent(40)
        entries = [(e["at"], "to-bot", e["label"], e["detail"], e["payload"]) for e in sent]
        entries += [(r.at, "from-bot", f"API {r.name}" if r.kind == "api" else "response_url", "", r.payload)
                    for r in received]
        entries.sort(key=lambda e: e[0], reverse=True)
        items = []
        for _, direction, label, detail, payload in entries[:40]:
            arrow = "→ bot" if direction == "to-bot" else "bot →"
            items.append(f'<details class="traffic {direction}"><summary><span class="dir">{arrow}</span> {esc(label)}'
                         f' <span class="detail">{esc(detail)}</span></summary>'
                         f"<pre>{esc(json.dumps(payload, indent=2, ensure_ascii=False))}</pre></details>")
        return "".join(items) or '<div class="empty">Nothing yet.</div>'

    # ------------------------------------------------------------------ acting
    def person(self, user_id: str) -> Person:
        for p in self.people:
            if p.id == user_id:
                return p
        raise ValueError(f"unknown user {user_id}")

    def _user(self, user_id: str) -> dict:
        return self.ws.user(user_id, self.person(user_id).handle)

    def _channel_ref(self, channel_id: str) -> dict:
        channel = self.slack.channels.get(channel_id)
        return {"id": channel_id, "name": channel.name if channel and not channel.im_user else "directmessage"}

    def _log(self, label: str, payload: Any, answer: payloads.BotAnswer) -> None:
        if answer.error:
            detail = answer.error
        else:
            detail = f"HTTP {answer.status} in {answer.elapsed * 1000:.0f} ms"
            if answer.body.strip():
                detail += f": {answer.body[:200]}"
        with self._lock:
            self.traffic.append({"at": time.monotonic(), "label": label, "detail": detail, "payload": payload})

    def _failure_note(self, what: str, answer: payloads.BotAnswer) -> str:
        if answer.error:
            return f"{what} failed with the error “{answer.error.split(' ')[0]}”"
        return f"{what} failed with the error “dispatch_failed” (the bot answered HTTP {answer.status})"

    def do_send(self, body: dict) -> dict:
        """The message box: a slash command goes to the bot; anything else is posted to the channel."""
        user, text = str(body["user"]), str(body.get("text") or "").strip()
        self.person(user)
        channel_id = self.slack.dm_channel(user).id if body.get("place") == "messages" else self.channel_id
        if not text:
            return {"ok": False, "note": "nothing to send"}
        if not text.startswith("/"):
            self.slack.post_as_user(channel_id, user, text)
            return {"ok": True}
        command, _, rest = text.partition(" ")
        if command not in self.commands:
            self.slack.post_ephemeral_as(
                channel_id, user, f"`{command}` is not a valid command. In Slack, all messages that start with the "
                "“/” character are interpreted as commands.", author=SLACKBOT)
            return {"ok": False, "note": f"{command} is not one of this app's commands"}
        form = payloads.slash_command(
            self.ws, user_id=user, user_name=self.person(user).handle, channel_id=channel_id,
            channel_name=self._channel_ref(channel_id)["name"], command=command, text=rest.strip(),
            response_url=self.slack.open_response_url(channel=channel_id, user=user, command_text=text),
            trigger_id=self.slack.issue_trigger(user))
        answer = self.bot.command(form)
        self._log(f"slash command {command}", dict(_form_fields(form)), answer)
        if not answer.ok:
            note = self._failure_note(command, answer)
            self.slack.post_ephemeral_as(channel_id, user, note, author=SLACKBOT)
            return {"ok": False, "note": note}
        ack = answer.json()
        if ack is not None and ack.get("response_type") == "in_channel":
            self.slack.post_as_bot(channel_id, ack, command=(user, text))
        elif ack is not None and (ack.get("text") or ack.get("blocks")):
            self.slack.post_ephemeral_as(channel_id, user, ack.get("text") or "", blocks=ack.get("blocks"))
        elif answer.body.strip() and ack is None:
            self.slack.post_ephemeral_as(channel_id, user, answer.body)  # Bolt acks plain text as text/plain
        return {"ok": True}

    def do_action(self, body: dict) -> dict:
        """A click or a menu choice on a message, a modal or the Home tab: `block_actions`."""
        user = str(body["user"])
        self.person(user)
        container = body["container"]
        act = body["action"]
        element = payloads.action(str(act["type"]), action_id=str(act["action_id"]), block_id=str(act["block_id"]),
                                  **{k: v for k, v in act.items() if k in _ACTION_FIELDS})
        if container.get("kind") == "view":
            view = self.slack.view(str(container["view_id"]))
            if view is None:
                return {"ok": False, "note": "that view is gone"}
            self.slack.set_view_values(view.id, body.get("values") or view.values)
            payload = payloads.block_actions(  # a modal's or the App Home's: container type "view" for both
                self.ws, user=self._user(user), actions=[element], trigger_id=self.slack.issue_trigger(user),
                container={"type": "view", "view_id": view.id}, view=self.slack.view_json(view))
        else:
            channel_id, ts = str(container["channel"]), str(container["ts"])
            message = self.slack.find_message(channel_id, ts)
            if message is None:
                return {"ok": False, "note": "that message is gone"}
            ephemeral = message.ephemeral_to is not None
            payload = payloads.block_actions(
                self.ws, user=self._user(user), actions=[element], trigger_id=self.slack.issue_trigger(user),
                container={"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": ephemeral},
                channel=self._channel_ref(channel_id), message=None if ephemeral else message.to_json(),
                response_url=self.slack.open_response_url(channel=channel_id, user=user, source_ts=ts,
                                                          ephemeral=ephemeral),
                state={})
        answer = self.bot.interaction(payload)
        self._log(f"block_actions {element['action_id']}", payload, answer)
        return {"ok": answer.ok, "note": None if answer.ok else self._failure_note("That action", answer)}

    def do_options(self, body: dict) -> dict:
        """An external_select typeahead: `block_suggestion`; the ack's options go back to the page."""
        user = str(body["user"])
        self.person(user)
        container = body["container"]
        common = {"user": self._user(user), "action_id": str(body["action_id"]), "block_id": str(body["block_id"]),
                  "value": str(body.get("value") or "")}
        if container.get("kind") == "view":
            view = self.slack.view(str(container["view_id"]))
            if view is None:
                return {"ok": False, "options": [], "note": "that view is gone"}
            self.slack.set_view_values(view.id, body.get("values") or view.values)
            payload = payloads.block_suggestion(self.ws, container={"type": "view", "view_id": view.id},
                                                view=self.slack.view_json(view), **common)
        else:
            channel_id, ts = str(container["channel"]), str(container["ts"])
            message = self.slack.find_message(channel_id, ts)
            payload = payloads.block_suggestion(
                self.ws, container={"type": "message", "message_ts": ts, "channel_id": channel_id,
                                    "is_ephemeral": bool(message and message.ephemeral_to)},
                channel=self._channel_ref(channel_id), message=message.to_json() if message else None, **common)
        answer = self.bot.interaction(payload)
        self._log(f"block_suggestion {common['action_id']} “{common['value']}”", payload, answer)
        ack = answer.json() or {}
        options = list(ack.get("options") or [])
        for group in ack.get("option_groups") or []:
            label = plain(group.get("label") or "")
            options += [{**o, "group": label} for o in group.get("options") or []]
        shown = [{"text": plain(o.get("text") or ""), "value": o.get("value", ""), "option": o,
                  "group": o.get("group")} for o in options if isinstance(o, dict)]
        note = None if answer.ok else self._failure_note("Loading options", answer)
        return {"ok": answer.ok, "options": shown, "note": note}

    def do_submit(self, body: dict) -> dict:
        """The modal's submit button: `view_submission`, then the ack's response_action, as Slack applies it."""
        user = str(body["user"])
        self.person(user)
        view = self.slack.view(str(body["view_id"]))
        if view is None:
            return {"ok": False, "note": "that view is gone"}
        self.slack.set_view_values(view.id, body.get("values") or {})
        payload = payloads.view_submission(self.ws, user=self._user(user), view=self.slack.view_json(view),
                                           trigger_id=self.slack.issue_trigger(user))
        answer = self.bot.interaction(payload)
        self._log(f"view_submission {view.spec.get('callback_id', '')}", payload, answer)
        if not answer.ok:
            return {"ok": False, "note": "We had some trouble connecting. Try again? "
                    f"({self._failure_note('Submitting', answer)})"}
        outcome = self.slack.submission_answered(user, view.id, answer.json())
        return {"ok": True, "outcome": outcome}

    def do_close(self, body: dict) -> dict:
        """The modal's close button or ×: the view closes; `view_closed` goes out if the view asked for it."""
        user = str(body["user"])
        self.person(user)
        view = self.slack.view(str(body["view_id"]))
        if view is None:
            return {"ok": True}
        closed = self.slack.close_view(user, view.id, clear=bool(view.spec.get("clear_on_close")))
        if view.spec.get("notify_on_close"):
            payload = payloads.view_closed(self.ws, user=self._user(user), view=self.slack.view_json(view),
                                           is_cleared=len(closed) > 1)
            answer = self.bot.interaction(payload)
            self._log(f"view_closed {view.spec.get('callback_id', '')}", payload, answer)
        return {"ok": True}

    def do_shortcut(self, body: dict) -> dict:
        """A global shortcut (⚡ menu) or a message shortcut (a message's ⋯ menu)."""
        user = str(body["user"])
        self.person(user)
        callback_id = str(body["callback_id"])
        trigger = self.slack.issue_trigger(user)
        if body.get("type") == "message":
            channel_id, ts = str(body["channel"]), str(body["ts"])
            message = self.slack.find_message(channel_id, ts)
            if message is None:
                return {"ok": False, "note": "that message is gone"}
            payload = payloads.message_shortcut(
                self.ws, user=self._user(user), callback_id=callback_id, trigger_id=trigger,
                channel=self._channel_ref(channel_id), message=message.to_json(),
                response_url=self.slack.open_response_url(channel=channel_id, user=user))
            label = "message_action"
        else:
            payload = payloads.global_shortcut(self.ws, user=self._user(user), callback_id=callback_id,
                                               trigger_id=trigger)
            label = "shortcut"
        answer = self.bot.interaction(payload)
        self._log(f"{label} {callback_id}", payload, answer)
        return {"ok": answer.ok, "note": None if answer.ok else self._failure_note("The shortcut", answer)}

    def do_open_app(self, body: dict) -> dict:
        """The user opened the app's Home or Messages tab: `app_home_opened` over the Events API."""
        user = str(body["user"])
        self.person(user)
        tab = "messages" if body.get("tab") == "messages" else "home"
        home = self.slack.home(user)
        event = payloads.app_home_opened(user, self.slack.dm_channel(user).id, tab=tab,
                                         view=self.slack.view_json(home) if home else None)
        envelope = payloads.event_callback(self.ws, event, bot_user_id=self.slack.bot_user_id)
        answer = self.bot.event(envelope)
        self._log(f"event app_home_opened ({tab})", envelope, answer)
        self._home_answers[user] = answer.error or f"HTTP {answer.status}" + (
            " (no listener for it yet)" if answer.status == 404 else "")
        self.slack.touch()
        return {"ok": True}

    def do_genesys(self, body: dict) -> dict:
        op = body.get("op")
        if op == "new_call":
            return {"ok": True, "conversation_id": self.org.start_call(body.get("queue_id") or None)}
        if op == "end_call":
            self.org.end_call(str(body["conversation_id"]))
        elif op == "mode":
            self.org.set_mode(str(body["mode"]))
        else:
            raise ValueError(f"unknown op {op!r}")
        return {"ok": True}


_ACTION_FIELDS = ("value", "text", "style", "selected_option", "selected_user", "selected_conversation",
                  "selected_channel")


def _form_fields(form: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(form, keep_blank_values=True)


def _json(value: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, json.dumps(value).encode(), "application/json", {"Cache-Control": "no-store"})

