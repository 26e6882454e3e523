from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.slack.deps import SlackDeps
from bot.slack.listeners.actions.approval import handle_click
from bot.slack.listeners.actions.home import handle_open_modal, handle_page
from bot.slack.listeners.actions.pick import handle_pick
from bot.slack.render.approval import APPROVE, DENY
from bot.slack.render.home import OPEN_MODAL, PAGE_NEXT, PAGE_PREV
from bot.slack.render.notices import CANCEL, PICK_CALL


def register(app: App, deps: SlackDeps) -> None:
    """Buttons: decisions, cancel, picking a call, and the Home tab's own buttons."""
    def approve(ack: Ack, body: dict[str, Any]) -> None:
        handle_click(ack, body, "approve", deps)

    def deny(ack: Ack, body: dict[str, Any]) -> None:
        handle_click(ack, body, "deny", deps)

    def cancel(ack: Ack, body: dict[str, Any]) -> None:
        handle_click(ack, body, "cancel", deps)

    def pick(ack: Ack, body: dict[str, Any]) -> None:
        handle_pick(ack, body, deps)

    def open_modal(ack: Ack, body: dict[str, Any]) -> None:
        handle_open_modal(ack, body, deps)

    def page(ack: Ack, body: dict[str, Any]) -> None:
        handle_page(ack, body, deps)

    app.action(APPROVE)(approve)
    app.action(DENY)(deny)
    app.action(CANCEL)(cancel)
    app.action(PICK_CALL)(pick)
    app.action(OPEN_MODAL)(open_modal)
    app.action(PAGE_NEXT)(page)
    app.action(PAGE_PREV)(page)
