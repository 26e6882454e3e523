"""Approve / Deny / Cancel clicks. Authorisation happens in the service, on every click."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import Ack, Respond

from bot.slack import blocks
from bot.slack.listeners.context import ListenerContext

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def make_click_handler(ctx: ListenerContext, verb: str) -> Callable[..., None]:
    def handle_click(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        clicker = (body.get("user") or {}).get("id", "")
        actions = body.get("actions") or [{}]
        request_id = str(actions[0].get("value", ""))
        if not _REQUEST_ID.match(request_id) or not clicker:
            respond(**blocks.private("That button doesn't belong to a transfer request I know."))
            return
        ctx.run_later(run_click, ctx, respond, verb, request_id, clicker)

    handle_click.__name__ = f"handle_{verb}"
    return handle_click


def run_click(ctx: ListenerContext, respond: Respond, verb: str, request_id: str, clicker: str) -> None:
    service = ctx.service()
    try:
        result = getattr(service, verb)(request_id, clicker)
    except Exception:
        log.exception("%s of request %s failed unexpectedly", verb, request_id)
        respond(**blocks.private("Something went wrong on the bot's side. Check the request message for its state."))
        return
    if result.finished is not None:
        respond(**blocks.already_finished(result.finished))
    else:
        # A successful Cancel comes from the requester's private notice: replace it.
        replace = verb == "cancel" and result.ending is not None
        respond(**blocks.private(result.message, replace_original=replace))
