"""Parse `/transfer` text into a validated command.

The conversation id ends up in a Genesys URL path, and the SDK leaves `/` and `..` unescaped,
so nothing but a strict UUID ever leaves this module as an id.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_UUID_IN_TEXT = re.compile(
    r"(?<![0-9a-fA-F])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9a-fA-F])"
)
# Slack wraps pasted links as <https://…> or <https://…|label> when it auto-links them.
_SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")
MAX_QUEUE_NAME = 256


def is_uuid(value: str) -> bool:
    return bool(UUID_RE.match(value))


@dataclass(frozen=True)
class HelpRequest:
    pass


@dataclass(frozen=True)
class TransferCommand:
    conversation_id: str
    queue_name: str


@dataclass(frozen=True)
class ParseError:
    message: str


ParseResult = HelpRequest | TransferCommand | ParseError


def normalize_queue_name(name: str) -> str:
    """Key for comparing queue names: case- and whitespace-insensitive, as the issue asks."""
    return " ".join(name.split()).casefold()


def _conversation_id(token: str) -> str | None:
    link = _SLACK_LINK.match(token)
    if link:
        token = link.group(1)
    if is_uuid(token):
        return token.lower()
    if re.match(r"^https?://", token):
        found = {m.group(0).lower() for m in _UUID_IN_TEXT.finditer(token)}
        if len(found) == 1:
            return found.pop()
    return None


def parse_transfer_text(text: str | None) -> ParseResult:
    """Never raises: every input maps to help, a command, or a message saying what is wrong."""
    raw = html.unescape(text or "")
    raw = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in raw)
    raw = raw.strip()
    if not raw or raw.casefold() in {"help", "-h", "--help", "?"}:
        return HelpRequest()
    parts = raw.split(maxsplit=1)
    conversation_id = _conversation_id(parts[0])
    if conversation_id is None:
        return ParseError(
            "The first word must be a Genesys conversation id (a UUID such as "
            "`3f1c2a4e-9b7d-4c1e-8f00-1234567890ab`) or a Genesys interaction link."
        )
    queue_name = " ".join(parts[1].split()) if len(parts) > 1 else ""
    if len(queue_name) >= 2 and queue_name[0] == queue_name[-1] and queue_name[0] in "\"'“”":
        queue_name = queue_name[1:-1].strip()
    queue_name = queue_name.strip("“”").strip()
    if not queue_name:
        return ParseError("Which queue? Add the queue name after the conversation id.")
    if len(queue_name) > MAX_QUEUE_NAME:
        return ParseError(f"That queue name is too long (over {MAX_QUEUE_NAME} characters).")
    return TransferCommand(conversation_id=conversation_id, queue_name=queue_name)
