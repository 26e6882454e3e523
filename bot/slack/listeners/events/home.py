"""App Home opened: note the visit (so updates are published to people who look) and show it."""

from __future__ import annotations

import logging
from typing import Any

from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)


def handle_home_opened(event: dict[str, Any], deps: SlackDeps) -> None:
    """Only the Home tab; the Messages tab needs nothing from us. Bolt acks events when this returns."""
    if event.get("tab") != "home":
        return
    user = str(event.get("user") or "")
    if user:
        deps.after_ack(show_home, user, deps)


def show_home(user: str, deps: SlackDeps) -> None:
    """After the ack: note the visit (a database write), then publish."""
    try:
        deps.state.home_opened(user, deps.now())
        deps.home.publish(user)
    except Exception:
        log.exception("could not publish the Home tab")
