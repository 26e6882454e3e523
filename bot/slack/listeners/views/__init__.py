from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.slack.deps import SlackDeps
from bot.slack.listeners.views.transfer_modal import handle_submission
from bot.slack.render.modal import CALLBACK_ID


def register(app: App, deps: SlackDeps) -> None:
    """View submissions: the transfer form."""
    def transfer_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        handle_submission(ack, body, view, deps)

    app.view(CALLBACK_ID)(transfer_submission)
