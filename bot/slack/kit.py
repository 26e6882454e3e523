"""Block Kit building blocks that respect Slack's limits by construction.

Every mrkdwn text object is `verbatim` (no auto-linking of `@here`/`#chan` in user text) and
clipped on a safe boundary; plain_text is cut to its own limit; empty text never reaches Slack
(it rejects the whole message for one empty field).
"""

from __future__ import annotations

from typing import Any

from bot.slack.text import BUTTON_TEXT, CONTEXT_TEXT, HEADER_TEXT, PLAIN_TEXT, SECTION_TEXT, clip, cut

Block = dict[str, Any]
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_CONTEXT_ELEMENTS = 10
BLANK = " "  # Slack refuses "", and a lone space renders as nothing


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    """Verbatim mrkdwn, clipped on a safe boundary: user text never auto-links or pings."""
    return {"type": "mrkdwn", "text": clip(text, limit) or BLANK, "verbatim": True}


def plain(text: str, limit: int = PLAIN_TEXT) -> dict[str, Any]:
    """plain_text cut to its limit (Slack rejects the whole message for one overlong label)."""
    return {"type": "plain_text", "text": cut(text, limit) or BLANK, "emoji": True}


def section(text: str, *, block_id: str | None = None, accessory: dict[str, Any] | None = None) -> Block:
    """A section of mrkdwn text, optionally with one accessory (a button)."""
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> Block | None:
    """A context line; None when every text is empty, so no empty element is ever sent."""
    elements = [mrkdwn(t, CONTEXT_TEXT) for t in texts if t and t.strip()][:MAX_CONTEXT_ELEMENTS]
    return {"type": "context", "elements": elements} if elements else None


def header(text: str) -> Block:
    """A header block (plain text, ≤150 characters)."""
    return {"type": "header", "text": plain(text, HEADER_TEXT)}


def divider() -> Block:
    """A divider between groups of blocks."""
    return {"type": "divider"}


def button(label: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    """A button; `value` is what the click listener gets back (≤2,000 characters)."""
    element: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain(label, BUTTON_TEXT),
                               "value": value[:2000]}
    if style:
        element["style"] = style
    return element


def actions(block_id: str, *elements: dict[str, Any]) -> Block:
    """An actions block; its block_id must be unique in the message or view."""
    return {"type": "actions", "block_id": block_id[:255], "elements": list(elements)[:25]}


def blocks(*items: Block | None, limit: int = MAX_MESSAGE_BLOCKS) -> list[Block]:
    """Drop the Nones (optional parts) and stay within the block limit."""
    return [b for b in items if b][:limit]


def message(text: str, *items: Block | None) -> dict[str, Any]:
    """A channel message body (chat.postMessage / chat.update): fallback `text` plus blocks."""
    return {"text": clip(text, SECTION_TEXT) or BLANK, "blocks": blocks(*items)}


def ephemeral(text: str, *items: Block | None, replace_original: bool = False) -> dict[str, Any]:
    """A private reply (ack, response_url, ephemeral): visible to one person only."""
    body = message(text, *items)
    return {"response_type": "ephemeral", "replace_original": replace_original, **body}
