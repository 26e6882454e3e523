"""Slack listeners, grouped by Slack surface like the Bolt starter template.

Each surface's `register(app, deps)` wires thin Bolt functions to `handle_*` bodies that take
`deps` explicitly, so tests call the bodies directly with a fake ack.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import SlackDeps
from bot.slack.listeners import actions, commands, events, options, shortcuts, views


def register_listeners(app: App, deps: SlackDeps) -> None:
    """Wire every surface's listeners to `app`, all sharing one `deps`."""
    for surface in (commands, actions, shortcuts, views, options, events):
        surface.register(app, deps)
