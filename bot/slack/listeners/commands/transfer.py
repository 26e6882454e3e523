"""`/transfer`: parse, store the request, ack within Slack's 3 s, and validate it in the background.

The request is durable before the ack (one insert), so a crash right after "Working on it"
still leaves a row that recovery finishes or reports; Genesys is only touched by `process`,
on the transfer pool.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot.domain.parsing import HelpRequest, OpenModal, parse_transfer_text
from bot.domain.problems import Problem
from bot.domain.request import Ask
from bot.ports.replay_key import Replayed
from bot.ports.store import StoreUnavailable
from bot.ports.urgency import after_acks, urgent
from bot.slack import wording
from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import AckOnce
from bot.slack.origin import encode_origin
from bot.slack.render.modal import transfer_modal

log = logging.getLogger(__name__)
RESPONSE_URL_LIFETIME = timedelta(minutes=30)  # Slack: ≤5 uses within 30 minutes


def handle_transfer(ack: Any, command: dict[str, Any], deps: SlackDeps) -> None:
    """The /transfer listener body; every branch acks exactly once, before any slow work."""
    once = AckOnce(ack)
    try:
        _dispatch(once, command, deps)
    except Exception:
        log.exception("/transfer failed before it could be handed over")
        once(wording.unexpected())


def _dispatch(ack: AckOnce, command: dict[str, Any], deps: SlackDeps) -> None:
    parsed = parse_transfer_text(command.get("text"))
    if isinstance(parsed, HelpRequest):
        ack(wording.usage())
    elif isinstance(parsed, Problem):
        ack(wording.usage(parsed))
    elif isinstance(parsed, OpenModal):
        ack()
        deps.after_ack(_open_form, command, deps)
    else:
        take(ack, parsed.ask, command, deps)


def _open_form(command: dict[str, Any], deps: SlackDeps) -> None:
    """Right after the ack, on the after-ack pool: trigger_ids expire 3 s after the command was typed."""
    view = transfer_modal(channel=command.get("channel_id"))
    opened = deps.delivery.open_view(str(command.get("trigger_id") or ""), view)
    url = command.get("response_url")
    if not opened and url and deps.response_url_ok(url):
        deps.delivery.respond(url, wording.private(
            ":warning: I couldn't open the transfer form (Slack refused it, perhaps because it took too long). "
            f"Run `/transfer` again, or type it out:\n\n{wording.USAGE}"))


def take(ack: AckOnce, ask: Ask, command: dict[str, Any], deps: SlackDeps) -> None:
    """Store the request, remember where to answer, ack "Working on it", then validate it in the background."""
    user = str(command.get("user_id") or "")
    channel = command.get("channel_id")
    with urgent():  # the requester is waiting for the ack: this write goes before background ones
        try:
            request = deps.service.receive(ask, user, origin=encode_origin(channel, user))
        except Replayed:  # the guard drops this answer; nothing was stored, nothing is handed over
            ack()
            return
        except StoreUnavailable:
            log.warning("/transfer refused: the request store is unavailable")
            ack(wording.store_unavailable())
            return
    ack(wording.private(wording.working_on_it(ask)))
    url = command.get("response_url")
    # Once no ack is in flight (a burst of requesters waits for CPU, not for this), remember where
    # to answer, then hand the work over: the job always finds the URL. Should the process die in
    # between, recovery still answers, privately instead of in the channel.
    after_acks(lambda: _hand_over(request.id, url, deps))


def _hand_over(request_id: str, url: str | None, deps: SlackDeps) -> None:
    if url and deps.response_url_ok(url):
        try:
            deps.state.remember_response_url(request_id, url, deps.now() + RESPONSE_URL_LIFETIME)
        except Exception:  # replies fall back to ephemeral/DM; the transfer itself is unaffected
            log.warning("could not remember the response_url of request %s", request_id, exc_info=True)
    deps.run_later(deps.service.process, request_id)
