from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.slack.deps import SlackDeps
from bot.slack.listeners.commands.transfer import handle_transfer


def register(app: App, deps: SlackDeps) -> None:
    """Slash commands: `/transfer`."""
    def transfer_command(ack: Ack, command: dict[str, Any]) -> None:
        handle_transfer(ack, command, deps)

    app.command("/transfer")(transfer_command)
