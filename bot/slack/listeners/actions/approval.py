"""Approve / Deny / Cancel clicks: ack, note where the message lives, decide on the transfer pool.

Authorisation happens in the service on every click (anyone who sees a message can click its
buttons). The clicker is answered privately: by response_url, or on the Home tab with a flash,
since clicks there come without one.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.slack import wording
from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import REQUEST_ID, Click, read_click, tell_clicker, went_wrong
from bot.slack.origin import MessageRef
from bot.slack.render.notices import click_reply

log = logging.getLogger(__name__)
VERBS = ("approve", "deny", "cancel")


def not_ours() -> dict[str, Any]:
    """The answer to a button whose value isn't a request id (forged, or from an old version)."""
    return wording.private(":warning: That button doesn't belong to a transfer request I know.")


def handle_click(ack: Any, body: dict[str, Any], verb: str, deps: SlackDeps) -> None:
    """The listener body for transfer_approve / transfer_deny / transfer_cancel."""
    ack()
    try:
        click = read_click(body)
        if not click.user:
            return
        if not REQUEST_ID.match(click.value):
            tell_clicker(deps, click, not_ours())
            return
        deps.after_ack(hand_over, deps, verb, click)
    except Exception:
        log.exception("%s click could not be handed over", verb)


def hand_over(deps: SlackDeps, verb: str, click: Click) -> None:
    """After the ack: note the clicked message (a database write), then queue the decision."""
    if verb in ("approve", "deny") and click.on_channel_message:
        remember_message(deps, click)
    deps.run_later(run_click, deps, verb, click)


def remember_message(deps: SlackDeps, click: Click) -> None:
    """Record the clicked message as the request's message, unless one is recorded already.

    A click can beat the bot's own bookkeeping of the message it just posted; without this the
    reconciler would not know which message to update. Failing here must not lose the click.
    """
    ref = MessageRef(click.channel or "", click.message_ts or "").encode()
    try:
        deps.service.ctx.store.set_message_ref(click.value, ref)
    except Exception:
        log.warning("could not record the message of request %s", click.value, exc_info=True)


def run_click(deps: SlackDeps, verb: str, click: Click) -> None:
    """On the transfer pool: the decision itself (re-reads Genesys on approve), then the private answer."""
    try:
        result = getattr(deps.service, verb)(click.value, click.user)
        reply = click_reply(result, verb)
    except Exception:
        log.exception("%s of request %s failed unexpectedly", verb, click.value)
        reply = went_wrong()
    tell_clicker(deps, click, reply, request_id=click.value)
