"""Block Kit and mrkdwn to HTML, as Slack would show them; anything else as raw JSON, never dropped.

Safety: every piece of text is HTML-escaped before it is placed in markup; the only tags in the
output are the ones built here, and links keep only http(s) and mailto URLs. Slack's own escaping
(`&amp;`, `&lt;`, `&gt;`) is undone first, so a queue named `<b>` is shown as `<b>`, not bold.

Interactive elements carry `data-*` attributes (action_id, block_id, value, element type) that the
page's script turns into `block_actions`, `block_suggestion` and `view_submission` payloads.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

EMOJI = {
    "warning": "⚠️", "white_check_mark": "✅", "x": "❌", "hourglass": "⌛", "hourglass_flowing_sand": "⏳",
    "telephone_receiver": "📞", "telephone": "☎️", "no_entry": "⛔", "leftwards_arrow_with_hook": "↩️",
    "alarm_clock": "⏰", "twisted_rightwards_arrows": "🔀", "information_source": "ℹ️", "heavy_check_mark": "✔️",
    "rotating_light": "🚨", "bust_in_silhouette": "👤", "busts_in_silhouette": "👥", "arrow_right": "➡️",
    "tada": "🎉", "wave": "👋", "eyes": "👀", "lock": "🔒", "zap": "⚡", "phone": "☎️", "clock3": "🕒",
    "large_green_circle": "🟢", "red_circle": "🔴", "large_yellow_circle": "🟡", "thumbsup": "👍", "+1": "👍",
    "question": "❓", "exclamation": "❗", "memo": "📝", "inbox_tray": "📥", "outbox_tray": "📤",
}
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_ANGLE = re.compile(r"<([^<>]*)>")
_CODE_BLOCK = re.compile(r"```(.+?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")
# Slack formats *bold*, _italic_ and ~strike~ only at word boundaries.
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), "s"),
)


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def unescape_slack(text: str) -> str:
    """Slack's three entities back to characters (only these three: Slack escapes nothing else)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def emoji(text: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


@dataclass
class Names:
    """How ids are shown: user and channel names, and the user looking at the page."""

    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)

    def user(self, user_id: str) -> str:
        return self.users.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        return self.channels.get(channel_id, channel_id)


class _Placeholders:
    """Markup built from special sequences, kept out of the way of the formatting regexes."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, markup: str) -> str:
        self.parts.append(markup)
        return f"\x00{len(self.parts) - 1}\x00"

    def restore(self, text: str) -> str:
        return re.sub(r"\x00(\d+)\x00", lambda m: self.parts[int(m.group(1))], text)


def _special(inner: str, names: Names) -> str:
    """`<…>` in Slack text: links, user/channel mentions, special mentions, dates. Returns HTML."""
    target, _, label = inner.partition("|")
    target, label = unescape_slack(target), unescape_slack(label)
    if target.startswith("@"):
        user_id = target[1:]
        return f'<span class="mention" data-user="{esc(user_id)}">@{esc(label or names.user(user_id))}</span>'
    if target.startswith("#"):
        channel_id = target[1:]
        return f'<span class="mention channel">#{esc(label or names.channel(channel_id))}</span>'
    if target.startswith("!subteam^"):
        return f'<span class="mention">@{esc(label or target[len("!subteam^"):])}</span>'
    if target.startswith("!date^"):
        return esc(label or target)
    if target in ("!here", "!channel", "!everyone"):
        return f'<span class="mention special">@{esc(target[1:])}</span>'
    if _SAFE_URL.match(target):
        return f'<a href="{esc(target)}" target="_blank" rel="noopener noreferrer">{esc(label or target)}</a>'
    return esc(f"<{inner}>")  # not something Slack would turn into markup: show it as typed


def _inline(text: str, holder: _Placeholders, names: Names) -> str:
    """One stretch of Slack text (no code) to HTML: specials, escaping, emphasis, emoji."""
    pieces: list[str] = []
    last = 0
    for match in _ANGLE.finditer(text):
        pieces.append(esc(unescape_slack(text[last:match.start()])))
        pieces.append(holder.add(_special(match.group(1), names)))
        last = match.end()
    pieces.append(esc(unescape_slack(text[last:])))
    out = "".join(pieces)
    for pattern, tag in _STYLES:
        out = pattern.sub(lambda m, tag=tag: f"<{tag}>{m.group(1)}</{tag}>", out)
    return emoji(out)


def mrkdwn(text: str | None, names: Names | None = None) -> str:
    """Slack mrkdwn (already Slack-escaped, as the bot sends it) to safe HTML."""
    names = names or Names()
    holder = _Placeholders()
    text = text or ""
    text = _CODE_BLOCK.sub(lambda m: holder.add(f"<pre>{esc(unescape_slack(m.group(1).strip(chr(10))))}</pre>"), text)
    text = _CODE.sub(lambda m: holder.add(f"<code>{esc(unescape_slack(m.group(1)))}</code>"), text)
    lines = []
    for line in text.split("\n"):
        quote = 4 if line.startswith("&gt;") else 1 if line.startswith(">") else 0
        if quote:
            lines.append(holder.add(f"<blockquote>{_inline(line[quote:].lstrip(), holder, names)}</blockquote>"))
        else:
            lines.append(_inline(line, holder, names))
    return holder.restore("<br>".join(lines)).replace("</blockquote><br>", "</blockquote>")


def text_object(obj: Any, names: Names | None = None) -> str:
    """A composition text object (plain_text or mrkdwn) to HTML; a bare string counts as plain text."""
    if isinstance(obj, str):
        return esc(obj)
    if not isinstance(obj, dict) or "text" not in obj:
        raise ValueError("not a text object")
    if obj.get("type") == "mrkdwn":
        return mrkdwn(obj["text"], names)
    plain = esc(obj["text"])
    return emoji(plain) if obj.get("emoji", True) else plain


def plain(obj: Any) -> str:
    """A text object's characters, unformatted (for attributes, options and placeholders); escape on output."""
    if isinstance(obj, str):
        return obj
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text", ""))
    return unescape_slack(text) if obj.get("type") == "mrkdwn" else emoji(text)


def raw_json(value: Any, why: str) -> str:
    """What the playground can't render, shown as the JSON the bot sent (the Block Kit debugger view)."""
    return (f'<details class="raw" open><summary>{esc(why)}</summary>'
            f"<pre>{esc(json.dumps(value, indent=2, ensure_ascii=False))}</pre></details>")


@dataclass
class Surface:
    """Where blocks are shown: names for mentions, choices for the select menus, errors of a modal."""

    names: Names = field(default_factory=Names)
    users: list[tuple[str, str]] = field(default_factory=list)  # (id, name) for users_select
    channels: list[tuple[str, str]] = field(default_factory=list)  # (id, name) for conversations_select
    values: dict = field(default_factory=dict)  # a view's state.values, to keep what was typed
    errors: dict = field(default_factory=dict)  # block_id -> error, from response_action: errors


def _attrs(**data: Any) -> str:
    return " ".join(f'data-{k.replace("_", "-")}="{esc(v)}"' for k, v in data.items() if v is not None)


def _button(el: dict, block_id: str, s: Surface) -> str:
    style = el.get("style")
    cls = "btn" + (f" btn-{style}" if style in ("primary", "danger") else "")
    label = text_object(el["text"], s.names)
    attrs = _attrs(kind="button", action_id=el.get("action_id", ""), block_id=block_id, value=el.get("value"))
    if el.get("url") and _SAFE_URL.match(str(el["url"])):
        attrs += f' data-url="{esc(el["url"])}"'
    return f'<button type="button" class="{cls}" {attrs}>{label}</button>'


def _current(s: Surface, block_id: str, action_id: str) -> dict:
    return (s.values.get(block_id) or {}).get(action_id) or {}


def _select(el: dict, block_id: str, s: Surface) -> str:
    kind = el["type"]
    action_id = el.get("action_id", "")
    state = _current(s, block_id, action_id)
    placeholder = plain(el.get("placeholder") or "Select an item")
    attrs = _attrs(kind=kind, action_id=action_id, block_id=block_id)
    if kind == "external_select":
        chosen = state.get("selected_option") or el.get("initial_option") or {}
        label = plain(chosen.get("text", "")) if chosen else ""
        return (f'<div class="typeahead" {attrs} data-min-query-length="{esc(el.get("min_query_length", 3))}"'
                f' data-selected="{esc(json.dumps(chosen) if chosen else "")}">'
                f'<input type="text" class="typeahead-input" autocomplete="off" placeholder="{esc(placeholder)}"'
                f' value="{esc(label)}"><ul class="typeahead-options" hidden></ul></div>')
    if kind == "users_select":
        selected = state.get("selected_user") or el.get("initial_user")
        choices = s.users
    elif kind == "conversations_select":
        selected = state.get("selected_conversation") or el.get("initial_conversation")
        choices = s.channels
    else:  # static_select
        chosen = state.get("selected_option") or el.get("initial_option") or {}
        selected = chosen.get("value")
        choices = [(o.get("value", ""), plain(o.get("text", ""))) for o in el.get("options") or []]
    options = [f'<option value="">{esc(placeholder)}</option>']
    for value, label in choices:
        sel = " selected" if value == selected else ""
        options.append(f'<option value="{esc(value)}"{sel}>{esc(label)}</option>')
    return f'<select class="select" {attrs}>{"".join(options)}</select>'


def _text_input(el: dict, block_id: str, s: Surface) -> str:
    action_id = el.get("action_id", "")
    value = _current(s, block_id, action_id).get("value")
    if value is None:
        value = el.get("initial_value", "")
    placeholder = plain(el.get("placeholder") or "")
    attrs = _attrs(kind="plain_text_input", action_id=action_id, block_id=block_id)
    limits = "".join(f' {a}="{int(el[k])}"' for k, a in (("max_length", "maxlength"), ("min_length", "minlength"))
                     if isinstance(el.get(k), int))
    common = f'class="text-input" {attrs} placeholder="{esc(placeholder)}"{limits}'
    if el.get("multiline"):
        return f"<textarea {common}>{esc(value)}</textarea>"
    return f'<input type="text" {common} value="{esc(value)}">'


ELEMENTS: dict[str, Callable[[dict, str, Surface], str]] = {
    "button": _button,
    "plain_text_input": _text_input,
    "external_select": _select,
    "users_select": _select,
    "conversations_select": _select,
    "static_select": _select,
}


def element(el: Any, block_id: str, s: Surface) -> str:
    render = ELEMENTS.get(el.get("type")) if isinstance(el, dict) else None
    if render is None:
        return raw_json(el, f"element not rendered: {el.get('type') if isinstance(el, dict) else type(el).__name__}")
    try:
        return render(el, block_id, s)
    except (KeyError, TypeError, ValueError, AttributeError):
        return raw_json(el, f"malformed {el.get('type')} element")


def _section(b: dict, s: Surface) -> str:
    parts = []
    if b.get("text") is not None:
        parts.append(f'<div class="section-text">{text_object(b["text"], s.names)}</div>')
    if b.get("fields"):
        fields = "".join(f'<div class="field">{text_object(f, s.names)}</div>' for f in b["fields"])
        parts.append(f'<div class="fields">{fields}</div>')
    if not parts:
        raise ValueError("a section needs text or fields")
    body = f'<div class="section-body">{"".join(parts)}</div>'
    if b.get("accessory"):
        body += f'<div class="accessory">{element(b["accessory"], b.get("block_id", ""), s)}</div>'
    return f'<div class="block section">{body}</div>'


def _context(b: dict, s: Surface) -> str:
    items = []
    for el in b["elements"]:
        if isinstance(el, dict) and el.get("type") == "image":
            items.append(f'<span class="image-alt">[{esc(el.get("alt_text", "image"))}]</span>')
        else:
            items.append(f"<span>{text_object(el, s.names)}</span>")
    return f'<div class="block context">{"".join(items)}</div>'


def _actions(b: dict, s: Surface) -> str:
    block_id = b.get("block_id", "")
    items = "".join(element(el, block_id, s) for el in b["elements"])
    return f'<div class="block actions" data-block-id="{esc(block_id)}">{items}</div>'


def _header(b: dict, s: Surface) -> str:
    return f'<div class="block header">{text_object(b["text"], s.names)}</div>'


def _divider(b: dict, s: Surface) -> str:
    return '<hr class="block divider">'


def _input(b: dict, s: Surface) -> str:
    block_id = b.get("block_id", "")
    optional = ' <span class="optional">(optional)</span>' if b.get("optional") else ""
    label = f'<label class="input-label">{text_object(b["label"], s.names)}{optional}</label>'
    control = element(b["element"], block_id, s)
    hint = f'<div class="hint">{text_object(b["hint"], s.names)}</div>' if b.get("hint") else ""
    error = s.errors.get(block_id)
    error_html = f'<div class="field-error">{esc(error)}</div>' if error else ""
    cls = "block input" + (" has-error" if error else "")
    dispatch = ' data-dispatch-action="true"' if b.get("dispatch_action") else ""
    return (f'<div class="{cls}" data-block-id="{esc(block_id)}"{dispatch}'
            f' data-optional="{str(bool(b.get("optional"))).lower()}">{label}{control}{hint}{error_html}</div>')


BLOCKS: dict[str, Callable[[dict, Surface], str]] = {
    "section": _section,
    "context": _context,
    "actions": _actions,
    "header": _header,
    "divider": _divider,
    "input": _input,
}


def block(b: Any, s: Surface) -> str:
    render = BLOCKS.get(b.get("type")) if isinstance(b, dict) else None
    if render is None:
        kind = b.get("type") if isinstance(b, dict) else type(b).__name__
        return raw_json(b, f"block not rendered: {kind}")
    try:
        return render(b, s)
    except (KeyError, TypeError, ValueError, AttributeError):
        return raw_json(b, f"malformed {b.get('type')} block")


def blocks(items: Any, s: Surface | None = None) -> str:
    s = s or Surface()
    if not isinstance(items, list):
        return raw_json(items, "blocks is not a list")
    return "".join(block(b, s) for b in items)


def message_body(text: str | None, items: list | None, attachments: list | None, s: Surface) -> str:
    """A message as Slack shows it: its blocks if any, else its text; legacy attachments as JSON."""
    body = blocks(items, s) if items else f'<div class="block text">{mrkdwn(text, s.names)}</div>'
    if attachments:
        body += raw_json(attachments, "attachments (legacy) not rendered")
    return body
