"""Parse `/transfer` text into what was asked, before anything is looked up.

    /transfer [--now] <call> <target>
    call:   a conversation id, a Genesys interaction link, @agent (a Slack mention), me,
            or agent:<email>
    target: a queue name (may contain spaces; "Billing (EMEA)" names a division; a queue id
            works too), an agent (@mention or agent:<email>) or an outside number (+E.164)

Ids end up in Genesys URL paths, and the SDK leaves `/` and `..` unescaped, so nothing but a
strict UUID ever leaves this module as an id.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from bot.domain.problems import Code, Problem
from bot.domain.request import Ask
from bot.domain.target import looks_like_number, normalize_number

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_UUID_IN_TEXT = re.compile(
    r"(?<![0-9a-fA-F])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9a-fA-F])"
)
# Slack wraps links as <https://…> or <https://…|label>, mentions as <@U123|name>, emails as
# <mailto:a@b|a@b> when the command has should_escape: true.
_WRAPPED_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_EMAIL = re.compile(r"^[^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+$")
_CHAT_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
MAX_TARGET = 256

# Prefixes used inside Ask.call / Ask.target: they never collide with a UUID or a queue name
# because the parser produces them only from the shapes above.
ME = "me"
AGENT_CHAT = "agent-chat:"
AGENT_EMAIL = "agent-email:"
QUEUE_ID = "queue-id:"
NUMBER = "number:"


def is_uuid(value: str) -> bool:
    return bool(UUID_RE.match(value))


def is_chat_user_id(value: str) -> bool:
    return bool(_CHAT_USER_ID.match(value))


def normalize_queue_name(name: str) -> str:
    """Key for comparing queue names: case- and whitespace-insensitive."""
    return " ".join(name.split()).casefold()


def loose_queue_key(name: str) -> str:
    """Looser key for typing: also ignores spaces, `_` and `-` ("support tier 2" ~ "Support_Tier2")."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


@dataclass(frozen=True)
class HelpRequest:
    pass


@dataclass(frozen=True)
class OpenModal:
    """`/transfer` with no text: the picker modal."""


@dataclass(frozen=True)
class TransferCommand:
    ask: Ask


ParseResult = HelpRequest | OpenModal | TransferCommand | Problem


def _clean(text: str | None) -> str:
    raw = html.unescape(text or "")
    if not raw.isprintable():  # the common case skips the per-character pass (this is on the ack path)
        raw = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in raw)
    return raw.strip()


def _unwrap_email(token: str) -> str | None:
    link = _WRAPPED_LINK.match(token)
    if link:
        token = link.group(1)
    token = token.removeprefix("mailto:")
    return token.lower() if _EMAIL.match(token) else None


def conversation_id_from(token: str) -> str | None:
    """A UUID, or the single UUID inside a (Slack-wrapped) Genesys link."""
    link = _WRAPPED_LINK.match(token)
    if link:
        token = link.group(1)
    if is_uuid(token):
        return token.lower()
    if re.match(r"^https?://", token):
        found = {m.group(0).lower() for m in _UUID_IN_TEXT.finditer(token)}
        if len(found) == 1:
            return found.pop()
    return None


def parse_call_ref(token: str) -> str | Problem:
    """Ask.call for the first word of the command."""
    mention = _MENTION.match(token)
    if mention:
        return AGENT_CHAT + mention.group(1)
    if token.casefold() == ME:
        return ME
    if token.casefold().startswith("agent:"):
        email = _unwrap_email(token[len("agent:"):])
        return AGENT_EMAIL + email if email else Problem(Code.BAD_CALL_REF, {"token": token[:80]})
    conversation_id = conversation_id_from(token)
    if conversation_id:
        return conversation_id
    if token.startswith("@"):
        return Problem(Code.BAD_CALL_REF, {"token": token[:80], "unlinked_mention": True})
    return Problem(Code.BAD_CALL_REF, {"token": token[:80]})


def _strip_quotes(text: str) -> str:
    text = " ".join(text.split())
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    return text.strip("“”").strip()


def parse_target(text: str) -> str | Problem:
    """Ask.target for the rest of the command."""
    text = _strip_quotes(text)
    if not text:
        return Problem(Code.MISSING_TARGET)
    if len(text) > MAX_TARGET:
        return Problem(Code.BAD_TARGET, {"too_long": MAX_TARGET})
    mention = _MENTION.match(text)
    if mention:
        return AGENT_CHAT + mention.group(1)
    if text.casefold().startswith("agent:"):
        email = _unwrap_email(text[len("agent:"):].strip())
        return AGENT_EMAIL + email if email else Problem(Code.BAD_TARGET, {"agent": text[6:80]})
    if text.startswith("+") and looks_like_number(text):
        number = normalize_number(text)
        return NUMBER + number if number else Problem(Code.NUMBER_INVALID, {"number": text[:40]})
    if text.casefold().startswith("queue:"):
        rest = text[len("queue:"):].strip()
        if is_uuid(rest):
            return QUEUE_ID + rest.lower()
        text = rest
    if is_uuid(text):
        return QUEUE_ID + text.lower()
    return text


def parse_transfer_text(text: str | None) -> ParseResult:
    """Never raises: every input maps to help, the modal, a command, or a Problem."""
    raw = _clean(text)
    if not raw:
        return OpenModal()
    if raw.casefold() in {"help", "-h", "--help", "?"}:
        return HelpRequest()
    now = False
    first, _, rest = raw.partition(" ")
    if first.casefold() in {"--now", "-now", "—now"}:
        now = True
        raw = rest.strip()
        if not raw:
            return Problem(Code.BAD_CALL_REF, {"token": ""})
        first, _, rest = raw.partition(" ")
    call = parse_call_ref(first)
    if isinstance(call, Problem):
        return call
    target = parse_target(rest)
    if isinstance(target, Problem):
        return target
    return TransferCommand(Ask(call=call, target=target, now=now))


def split_division(name: str) -> tuple[str, str | None]:
    """'Billing (EMEA)' → ('Billing', 'EMEA'); no qualifier → (name, None)."""
    match = re.match(r"^(.*\S)\s*\(([^()]+)\)$", name)
    if not match:
        return name, None
    return match.group(1).strip(), match.group(2).strip()
