from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.slack.deps import SlackDeps
from bot.slack.listeners.shortcuts.transfer import FROM_MESSAGE, GLOBAL, handle_from_message, handle_global


def register(app: App, deps: SlackDeps) -> None:
    """Global and message shortcuts that open the transfer form."""
    def global_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        handle_global(ack, body, deps)

    def message_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        handle_from_message(ack, body, deps)

    app.shortcut(GLOBAL)(global_shortcut)
    app.shortcut(FROM_MESSAGE)(message_shortcut)
