"""The transfer form: the modal, reading its submission, and the queue typeahead's options.

The form is for people who don't want to remember the command's syntax: paste a conversation
id or link (or pick the agent on the call), pick a queue from a list that shows how busy each
one is, pick where the result goes. Its ids are part of the contract with Slack and operators:
callback_id `transfer_modal`, and block_id == action_id for `call`, `agent`, `queue`, `channel`.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.domain.parsing import AGENT_CHAT, QUEUE_ID, conversation_id_from, is_chat_user_id, is_uuid
from bot.domain.request import Ask
from bot.service.queues import QueueOption
from bot.slack import kit
from bot.slack.text import OPTION_TEXT, approx, cut, esc

CALLBACK_ID = "transfer_modal"
CALL = "call"
AGENT = "agent"
QUEUE = "queue"
CHANNEL = "channel"
MAX_OPTIONS = 100
_UUID_IN_TEXT = re.compile(
    r"(?<![0-9a-fA-F])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9a-fA-F])"
)
_CONVERSATION = re.compile(r"^[CGD][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class ModalInput:
    """A valid submission: Ask.call, Ask.target, where to post (None: a DM) and where it was opened."""

    call: str
    target: str
    channel: str | None
    opened_in: str | None = None

    @property
    def ask(self) -> Ask:
        return Ask(call=self.call, target=self.target)


def conversation_id_in(text: str | None) -> str | None:
    """The one conversation id in free text (a message, a pasted link, "id: …"); None if none or several."""
    raw = html.unescape(text or "").strip()
    if not raw:
        return None
    direct = conversation_id_from(raw)
    if direct:
        return direct
    found = {m.lower() for m in _UUID_IN_TEXT.findall(raw)}
    return found.pop() if len(found) == 1 else None


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool, hint: str | None = None) -> kit.Block:
    block: kit.Block = {"type": "input", "block_id": block_id, "label": kit.plain(label, 2000),
                        "element": {**element, "action_id": block_id}, "optional": optional}
    if hint:
        block["hint"] = kit.plain(hint, 2000)
    return block


def transfer_modal(
    *, call: str | None = None, channel: str | None = None, agent: str | None = None, hint: str | None = None
) -> dict[str, Any]:
    """views.open body. `call` prefills the conversation, `agent` the agent picker, `channel` where to post.

    `hint` (plain text) says why the form opened empty, e.g. no conversation id in a message.
    """
    call_input: dict[str, Any] = {"type": "plain_text_input",
                                  "placeholder": kit.plain("3f1c2a4e-… or https://…/interactions/…")}
    if call:
        call_input["initial_value"] = call[:3000]
    agent_input: dict[str, Any] = {"type": "users_select", "placeholder": kit.plain("Pick the agent")}
    if agent and is_chat_user_id(agent):
        agent_input["initial_user"] = agent
    channel_input: dict[str, Any] = {
        "type": "conversations_select",
        "default_to_current_conversation": True,
        "response_url_enabled": True,
        "filter": {"include": ["public", "private", "im"]},
        "placeholder": kit.plain("Pick a channel (or leave empty for a DM)"),
    }
    if channel and _CONVERSATION.match(channel):
        channel_input["initial_conversation"] = channel
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": kit.plain("Transfer a conversation", 24),
        "submit": kit.plain("Transfer", 24),
        "close": kit.plain("Cancel", 24),
        "private_metadata": json.dumps({"channel": channel if channel and _CONVERSATION.match(channel) else None}),
        "blocks": kit.blocks(
            kit.context(f":information_source: {esc(hint, 500)}") if hint else None,
            _input(CALL, "Conversation id or link", call_input, optional=True,
                   hint="The Genesys interaction's id, or its link. Leave empty if you pick the agent below."),
            _input(AGENT, "…or the agent on the call", agent_input, optional=True,
                   hint="Their one live call is transferred; if they have several, you'll pick one."),
            _input(QUEUE, "Transfer to queue", {"type": "external_select", "min_query_length": 0,
                                                "placeholder": kit.plain("Type to search queues")}, optional=False),
            _input(CHANNEL, "Post the result in", channel_input, optional=True,
                   hint="Approval requests still go to the approvers' channel."),
            limit=kit.MAX_VIEW_BLOCKS,
        ),
    }


def _value(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = values.get(block_id) or {}
    value = block.get(block_id) or {}
    return value if isinstance(value, dict) else {}


def _opened_in(view: dict[str, Any]) -> str | None:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    channel = data.get("channel") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) and _CONVERSATION.match(channel) else None


def _call(text: str, agent: str | None, errors: dict[str, str]) -> str | None:
    if text and agent:
        errors[AGENT] = "Give the conversation or the agent, not both: clear one of them."
        return None
    if agent:
        if is_chat_user_id(agent):
            return AGENT_CHAT + agent
        errors[AGENT] = "Pick a person from the list."
        return None
    if not text:
        errors[CALL] = "Paste the conversation id or link, or pick the agent on the call below."
        return None
    conversation_id = conversation_id_in(text)
    if conversation_id is None:
        errors[CALL] = "That isn't a conversation id or a Genesys interaction link."
    return conversation_id


def read_modal(view: dict[str, Any]) -> ModalInput | dict[str, str]:
    """A view_submission's view → ModalInput, or field errors keyed by block_id (for response_action=errors)."""
    values = (view.get("state") or {}).get("values") or {}
    errors: dict[str, str] = {}
    text = str(_value(values, CALL).get("value") or "").strip()
    agent = _value(values, AGENT).get("selected_user")
    call = _call(text, agent, errors)
    option = _value(values, QUEUE).get("selected_option") or {}
    queue_id = str(option.get("value") or "")
    if not is_uuid(queue_id):
        errors[QUEUE] = "Pick a queue from the list."
    channel = _value(values, CHANNEL).get("selected_conversation")
    if errors or call is None:
        return errors
    return ModalInput(
        call=call,
        target=QUEUE_ID + queue_id.lower(),
        channel=channel if isinstance(channel, str) and _CONVERSATION.match(channel) else None,
        opened_in=_opened_in(view),
    )


def _health_parts(option: QueueOption) -> list[str]:
    health = option.health
    if health is None:
        return []
    parts = []
    if health.available is not None:
        parts.append(f"{health.available} available")
    if health.waiting is not None:
        parts.append(f"{health.waiting} waiting")
    if health.estimated_wait_seconds is not None:
        parts.append(approx(health.estimated_wait_seconds))
    return parts


def option_label(name: str, option: QueueOption) -> str:
    """`Support Tier 2 · 3 available · 5 waiting · ~2 min`, ≤75 chars: the name is cut, the numbers kept."""
    parts = _health_parts(option)
    suffix = "".join(f" · {p}" for p in parts)
    budget = max(OPTION_TEXT - len(suffix), 12)
    return cut(cut(name or "(unnamed queue)", budget) + suffix, OPTION_TEXT)


def queue_options(options: list[QueueOption]) -> list[dict[str, Any]]:
    """block_suggestion options in the given (ranked) order: ≤100, value = queue id, never an error.

    Names that appear more than once get their division, so two "Escalations" can be told apart.
    """
    seen: set[str] = set()
    counts = Counter(o.queue.name.casefold() for o in options)
    out: list[dict[str, Any]] = []
    for option in options:
        queue = option.queue
        if not queue.id or queue.id in seen or len(queue.id) > 150:
            continue
        seen.add(queue.id)
        division = queue.division_name or queue.division_id
        name = f"{queue.name} ({division})" if counts[queue.name.casefold()] > 1 and division else queue.name
        out.append({"text": kit.plain(option_label(name, option), OPTION_TEXT), "value": queue.id})
        if len(out) >= MAX_OPTIONS:
            break
    return out
