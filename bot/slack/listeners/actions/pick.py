"""The requester picks one of an agent's several live calls; a new request is made for it."""

from __future__ import annotations

import logging
from typing import Any

from bot.domain.parsing import is_uuid
from bot.service.decisions import ClickOutcome
from bot.slack.deps import SlackDeps
from bot.slack.listeners.actions.approval import not_ours
from bot.slack.listeners.commands.transfer import RESPONSE_URL_LIFETIME
from bot.slack.listeners.common import REQUEST_ID, Click, read_click, tell_clicker, went_wrong
from bot.slack.render.notices import click_reply

log = logging.getLogger(__name__)


def split_pick(value: str) -> tuple[str, str] | None:
    """`<request id>:<conversation id>` → both, or None when the value isn't ours."""
    request_id, _, conversation_id = value.partition(":")
    if REQUEST_ID.match(request_id) and is_uuid(conversation_id):
        return request_id, conversation_id.lower()
    return None


def handle_pick(ack: Any, body: dict[str, Any], deps: SlackDeps) -> None:
    """The requester picked one call; ack, then make the new request on the transfer pool."""
    ack()
    try:
        click = read_click(body)
        if not click.user:
            return
        picked = split_pick(click.value)
        if picked is None:
            tell_clicker(deps, click, not_ours())
            return
        deps.run_later(run_pick, deps, click, *picked)
    except Exception:
        log.exception("pick click could not be handed over")


def run_pick(deps: SlackDeps, click: Click, request_id: str, conversation_id: str) -> None:
    """On the transfer pool: a new request for the picked call, validated at once; the choice is replaced."""
    try:
        result = deps.service.pick(request_id, conversation_id, click.user)
    except Exception:
        log.exception("pick on request %s failed unexpectedly", request_id)
        tell_clicker(deps, click, went_wrong(), request_id=request_id)
        return
    fresh = result.request
    if result.outcome is ClickOutcome.PICKED and fresh is not None and click.response_url \
            and deps.response_url_ok(click.response_url):
        try:
            deps.state.remember_response_url(fresh.id, click.response_url, deps.now() + RESPONSE_URL_LIFETIME)
        except Exception:
            log.warning("could not remember the response_url of request %s", fresh.id, exc_info=True)
    tell_clicker(deps, click, click_reply(result, "pick"), request_id=fresh.id if fresh else request_id)
    if result.outcome is ClickOutcome.PICKED and fresh is not None:
        deps.service.process(fresh.id)
