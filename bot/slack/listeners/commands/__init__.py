from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.commands.transfer import make_transfer_command
from bot.slack.listeners.context import ListenerContext


def register(app: App, ctx: ListenerContext) -> None:
    app.command("/transfer")(make_transfer_command(ctx))
