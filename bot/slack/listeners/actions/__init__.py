from __future__ import annotations

from slack_bolt import App

from bot.slack import blocks
from bot.slack.listeners.actions.approval import make_click_handler
from bot.slack.listeners.context import ListenerContext


def register(app: App, ctx: ListenerContext) -> None:
    app.action(blocks.APPROVE)(make_click_handler(ctx, "approve"))
    app.action(blocks.DENY)(make_click_handler(ctx, "deny"))
    app.action(blocks.CANCEL)(make_click_handler(ctx, "cancel"))
