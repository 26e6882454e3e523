"""Shortcuts that open the transfer form: from anywhere, or from a message that mentions a call.

The message shortcut saves copying: a Genesys link or conversation id anywhere in the message
prefills the form, and the form posts back to that message's channel.
"""

from __future__ import annotations

from typing import Any

from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import open_form
from bot.slack.render.modal import conversation_id_in, transfer_modal

GLOBAL = "transfer_call"
FROM_MESSAGE = "transfer_call_from_message"
NO_ID_HINT = ("I found no conversation id or Genesys interaction link in that message. "
              "Paste one below, or pick the agent on the call.")


def handle_global(ack: Any, body: dict[str, Any], deps: SlackDeps) -> None:
    """The global shortcut: ack, then open an empty form while the trigger is fresh."""
    ack()
    deps.after_ack(open_form, str(body.get("trigger_id") or ""), transfer_modal(), deps)


def form_for_message(body: dict[str, Any]) -> dict[str, Any]:
    """The form prefilled from a message shortcut's payload."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    conversation_id = conversation_id_in(str(message.get("text") or ""))
    if conversation_id is None:
        return transfer_modal(channel=channel, hint=NO_ID_HINT)
    return transfer_modal(call=conversation_id, channel=channel)


def handle_from_message(ack: Any, body: dict[str, Any], deps: SlackDeps) -> None:
    """The message shortcut: ack, then open the form prefilled from the message."""
    ack()
    deps.after_ack(open_form, str(body.get("trigger_id") or ""), form_for_message(body), deps)
