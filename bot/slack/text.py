"""Text for Slack: escaping, safe truncation, mentions, channel links, ids, durations and times.

Only `&`, `<` and `>` are control characters in Slack text, so user and Genesys text is escaped
with exactly those three, and every mrkdwn text object we build carries `verbatim: true` so
Slack does not auto-link `@here` or `#channel` typed into a queue name. Truncation happens on
raw text before escaping, or on entity/mention boundaries, so a cut never leaves half of an
`&amp;` or of a `<@U…>` behind (a broken `<` swallows the rest of the message).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

ELLIPSIS = "…"
SYSTEM_ACTOR = "system"  # bot.service.context.SYSTEM: changes nobody clicked (expiry, recovery)
OPERATOR_PREFIX = "cli:"  # requests and cancels made with `python -m bot` by whoever runs the bot

# Slack limits we cut to (characters).
SECTION_TEXT = 3000
CONTEXT_TEXT = 3000
OPTION_TEXT = 75
BUTTON_TEXT = 75
HEADER_TEXT = 150
PLAIN_TEXT = 150

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: object) -> str:
    """`&`, `<`, `>` → entities; nothing else (Slack shows other HTML entities literally)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: object, limit: int) -> str:
    """Raw text cut to at most `limit` characters, ending in `…` when something was dropped."""
    raw = str(text)
    if len(raw) <= limit:
        return raw
    return raw[: max(0, limit - 1)].rstrip() + ELLIPSIS


def esc(text: object, limit: int | None = None) -> str:
    """Escaped text whose escaped length is at most `limit`: cut before escaping, never mid-entity."""
    raw = str(text)
    escaped = escape(raw)
    if limit is None or len(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 0
    for ch in raw:
        piece = _ESCAPES.get(ch, ch)
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + ELLIPSIS


def clip(mrkdwn: str, limit: int) -> str:
    """Cut already-built mrkdwn to `limit` characters on a safe boundary (outside `<…>` and `&…;`)."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    end = max(0, limit - 1)
    head = mrkdwn[:end]
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened]
    amp = head.rfind("&")
    if amp >= 0 and ";" not in head[amp:]:
        head = head[:amp]
    return head.rstrip() + ELLIPSIS


def mention(user_id: str | None) -> str:
    """`<@U…>` only for real Slack user ids; the bot and operators by name; anything else escaped."""
    if not user_id:
        return "someone"
    if user_id == SYSTEM_ACTOR:
        return "the bot"
    if user_id.startswith(OPERATOR_PREFIX):
        return "operator " + esc(user_id[len(OPERATOR_PREFIX):] or "unknown", 80)
    if _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return esc(user_id, 80)


def channel_link(channel: str | None) -> str:
    """`<#C…>` for a channel; "a direct message" for DMs or no channel, never a literal `<#>`."""
    if channel and _CHANNEL_ID.match(channel):
        return f"<#{channel}>"
    return "a direct message"


def short_id(value: str | None) -> str:
    """The first 8 characters of a UUID or request id: enough to find it, short enough to read."""
    return escape((value or "")[:8]) or "?"


def code(text: object, limit: int = 200) -> str:
    """Inline code (`…`) for ids; backticks inside would end it, so they are dropped."""
    return "`" + esc(str(text).replace("`", "'"), limit) + "`"


def quoted(text: object, limit: int = 200) -> str:
    """User text in curly quotes: “Support Tier 2”."""
    return f"“{esc(text, limit)}”"


def _seconds(value: float | timedelta) -> int:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(0, int(seconds))


def duration(value: float | timedelta) -> str:
    """45 s · 4 min 05 s · 1 h 02 min: precise enough for "how long has the call been going"."""
    seconds = _seconds(value)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def approx(value: float | timedelta) -> str:
    """~45 s · ~2 min · ~1 h 05 min: for estimated waits, where seconds would be false precision."""
    seconds = _seconds(value)
    if seconds < 60:
        return f"~{seconds} s"
    if seconds < 3600:
        return f"~{round(seconds / 60)} min"
    return f"~{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def clock(when: datetime) -> str:
    """10:02 UTC. Naive datetimes are taken as UTC."""
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return f"{utc:%H:%M} UTC"


def moment(when: datetime, now: datetime | None = None) -> str:
    """10:02 UTC today; 27 Nov 10:02 UTC on another day (history lists span days)."""
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if now is None:
        return clock(utc)
    today = (now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)).date()
    return clock(utc) if utc.date() == today else f"{utc:%d %b} {clock(utc)}"


def join(parts: list[str], sep: str = " · ") -> str:
    """Join the non-empty parts."""
    return sep.join(p for p in parts if p)
