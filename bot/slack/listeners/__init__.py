"""Slack listeners, grouped by Slack surface like the Bolt starter template."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import actions, commands
from bot.slack.listeners.context import ListenerContext


def register_listeners(app: App, ctx: ListenerContext) -> None:
    commands.register(app, ctx)
    actions.register(app, ctx)
