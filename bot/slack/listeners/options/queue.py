"""Queue typeahead for the form: answered from the directory's cache, never by waiting on Genesys."""

from __future__ import annotations

import logging
from typing import Any

from bot.slack.deps import SlackDeps
from bot.slack.render.modal import queue_options

log = logging.getLogger(__name__)


def handle_queue_options(ack: Any, payload: dict[str, Any], deps: SlackDeps) -> None:
    """block_suggestion for `queue`: an empty list rather than an error, so the menu stays usable."""
    try:
        options = queue_options(deps.queues.search(str(payload.get("value") or "")[:100]))
    except Exception:
        log.exception("queue typeahead failed")
        options = []
    ack(options=options)
