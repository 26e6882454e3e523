from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.slack.deps import SlackDeps
from bot.slack.listeners.options.queue import handle_queue_options
from bot.slack.render.modal import QUEUE


def register(app: App, deps: SlackDeps) -> None:
    """External select options: the form's queue typeahead."""
    def queue_suggestions(ack: Ack, payload: dict[str, Any]) -> None:
        handle_queue_options(ack, payload, deps)

    app.options(QUEUE)(queue_suggestions)
