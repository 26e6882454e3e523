"""The transfer form's submission: field errors keep it open; otherwise it becomes a request like /transfer.

The request is stored before the ack, as for the command, so a database outage keeps the form
open with the person's input and a clear error, instead of closing it on nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.domain.request import TransferRequest
from bot.ports.store import StoreUnavailable
from bot.slack import wording
from bot.slack.deps import SlackDeps
from bot.slack.listeners.commands.transfer import RESPONSE_URL_LIFETIME
from bot.slack.listeners.common import AckOnce
from bot.slack.origin import encode_origin
from bot.slack.render.modal import CHANNEL, QUEUE, ModalInput, read_modal

log = logging.getLogger(__name__)
STORE_DOWN = "I can't take transfers right now (the bot's database is unavailable); nothing was sent. Try again."
BROKEN = "Something went wrong on the bot's side; nothing was sent. Try again."


def _response_url(body: dict[str, Any], channel: str | None, deps: SlackDeps) -> str | None:
    """The response_url Slack gives for the picked channel (response_url_enabled), if it is one we accept."""
    for item in body.get("response_urls") or []:
        url = item.get("response_url")
        if item.get("block_id") == CHANNEL and item.get("channel_id") == channel and url and deps.response_url_ok(url):
            return str(url)
    return None


def handle_submission(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: SlackDeps) -> None:
    """Answer within 3 s: errors keep the form open; a stored request closes it."""
    once = AckOnce(ack)
    try:
        parsed = read_modal(view)
        if isinstance(parsed, dict):
            once(response_action="errors", errors=parsed)
            return
        _submit(once, body, parsed, deps)
    except Exception:
        log.exception("transfer form submission failed")
        once(response_action="errors", errors={QUEUE: BROKEN})


def _submit(ack: AckOnce, body: dict[str, Any], form: ModalInput, deps: SlackDeps) -> None:
    user = str((body.get("user") or {}).get("id") or "")
    try:
        request = deps.service.receive(form.ask, user, origin=encode_origin(form.channel, user))
    except StoreUnavailable:
        log.warning("transfer form refused: the request store is unavailable")
        ack(response_action="errors", errors={QUEUE: STORE_DOWN})
        return
    ack()
    deps.after_ack(_hand_over, request, user, form, _response_url(body, form.channel, deps), deps)


def _hand_over(request: TransferRequest, user: str, form: ModalInput, url: str | None, deps: SlackDeps) -> None:
    """After the ack (the form closes): where to answer, "Working on it", then the work itself."""
    if url:
        try:
            deps.state.remember_response_url(request.id, url, deps.now() + RESPONSE_URL_LIFETIME)
        except Exception:
            log.warning("could not remember the response_url of request %s", request.id, exc_info=True)
    deps.delivery.tell_user(user, wording.private(wording.working_on_it(form.ask)), response_url=url,
                            channel=form.channel, request_id=request.id)
    deps.run_later(deps.service.process, request.id)
