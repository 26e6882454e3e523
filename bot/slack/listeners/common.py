"""What every listener shares: ack at most once, read who clicked, and answer one person privately.

Listeners parse and ack, in the request's own thread (Slack gets the ack when the listener
returns); the service call runs on `deps.run_later`, what must follow the ack at once on
`deps.after_ack`, and anything said to Slack goes through `deps.delivery`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.slack import wording
from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


class AckOnce:
    """Bolt's ack, callable once: an error path can still answer if nothing was acked yet."""

    def __init__(self, ack: Callable[..., Any]) -> None:
        self._ack = ack
        self.done = False

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.done:
            return
        self.done = True
        self._ack(*args, **kwargs)


@dataclass(frozen=True)
class Click:
    """The parts of a block_actions payload a click handler needs (never the whole body: no logging it)."""

    user: str
    value: str
    response_url: str | None
    container: str  # "message", "view" (Home tab or modal) or ""
    ephemeral: bool
    channel: str | None
    message_ts: str | None
    trigger_id: str | None

    @property
    def in_view(self) -> bool:
        return self.container == "view"

    @property
    def on_channel_message(self) -> bool:
        return self.container == "message" and not self.ephemeral and bool(self.channel and self.message_ts)


def read_click(body: dict[str, Any]) -> Click:
    """The click's user, value and container; tolerant of missing keys (payloads vary by surface)."""
    container = body.get("container") or {}
    action = (body.get("actions") or [{}])[0] or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return Click(
        user=str((body.get("user") or {}).get("id") or ""),
        value=str(action.get("value") or ""),
        response_url=body.get("response_url"),
        container=str(container.get("type") or ""),
        ephemeral=bool(container.get("is_ephemeral")),
        channel=channel,
        message_ts=container.get("message_ts"),
        trigger_id=body.get("trigger_id"),
    )


def open_form(trigger_id: str, view: dict[str, Any], deps: SlackDeps) -> None:
    """After the ack, on the after-ack pool, while the trigger is fresh (3 s): shortcuts and Home."""
    try:
        deps.delivery.open_view(trigger_id, view)
    except Exception:
        log.exception("could not open the transfer form")


def tell_clicker(deps: SlackDeps, click: Click, reply: dict[str, Any], *, request_id: str | None = None) -> None:
    """Answer a click privately: the response_url when there is one; on the Home tab, a flash."""
    if click.in_view:
        deps.home.publish(click.user, flash=reply.get("text"))
    elif click.response_url and deps.response_url_ok(click.response_url):
        deps.delivery.respond(click.response_url, reply, request_id=request_id)
    else:
        deps.delivery.tell_user(click.user, reply, channel=click.channel, request_id=request_id)


def went_wrong() -> dict[str, Any]:
    """The answer when the bot itself failed: say so, and point at the request's message for its state."""
    return wording.private(":warning: Something went wrong on the bot's side. The request's message shows its "
                           "state; check the call in Genesys before trying again.")
