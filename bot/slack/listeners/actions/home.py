"""Buttons on the Home tab: open the transfer form, page through pending requests."""

from __future__ import annotations

import logging
from typing import Any

from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import open_form, read_click
from bot.slack.render.modal import transfer_modal

log = logging.getLogger(__name__)
MAX_PAGE = 1000


def handle_open_modal(ack: Any, body: dict[str, Any], deps: SlackDeps) -> None:
    """The Home tab's "Transfer a conversation" button: ack, then open the form while the trigger is fresh."""
    ack()
    deps.after_ack(open_form, str(body.get("trigger_id") or ""), transfer_modal(), deps)


def handle_page(ack: Any, body: dict[str, Any], deps: SlackDeps) -> None:
    """Next/Previous: the button's value is the page to show."""
    ack()
    try:
        click = read_click(body)
        if not click.user:
            return
        try:
            page = min(max(int(click.value), 0), MAX_PAGE)
        except ValueError:
            page = 0
        deps.home.publish(click.user, page=page)
    except Exception:
        log.exception("could not page the Home tab")
