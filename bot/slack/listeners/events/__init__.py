from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.slack.deps import SlackDeps
from bot.slack.listeners.events.home import handle_home_opened


def register(app: App, deps: SlackDeps) -> None:
    """Events: the Home tab being opened."""
    def app_home_opened(event: dict[str, Any]) -> None:
        handle_home_opened(event, deps)

    app.event("app_home_opened")(app_home_opened)
