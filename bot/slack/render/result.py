"""The channel-visible message of a transfer that needed no approval.

Posted when the POST goes out and updated in place until Genesys settles, so the channel sees
one message per transfer that ends in the truth, not a stream of status posts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.request import TransferRequest
from bot.domain.target import TargetKind
from bot.slack import kit
from bot.slack.render import describe as d
from bot.slack.text import code, esc, join, mention, short_id


def _details(request: TransferRequest) -> str:
    snap = request.snapshot
    agent = f" (agent: {esc(snap.agent_name, 120)})" if snap and snap.agent_name else ""
    queue_health = ""
    if request.target is not None and request.target.kind is TargetKind.QUEUE and snap is not None:
        known = d.health(snap.target_health)
        queue_health = f"{esc(request.target.name, 120)} had {known}" if known else ""
    return join([
        f"Requested by {mention(request.requester_id)}",
        f"{d.conversation(request)}{agent}",
        f"to {d.target(request)}",
        queue_health,
        d.confirmation(request),
        d.correlation(request),
        f"request {code(short_id(request.id))}",
    ])


def result_message(request: TransferRequest, now: datetime) -> dict[str, Any]:
    """chat.postMessage/chat.update body: who asked, what, where to, and how it stands now (numbers masked).

    Everything shown comes from the request, so re-rendering it later never changes old facts;
    `now` is kept for the reconciler's uniform call. Add `response_type` if sent by response_url.
    """
    glass = (":rotating_light: *Break glass:* sent without approval (`/transfer --now`)."
             if request.break_glass else "")
    head = d.outcome_and_problem(request)
    details = _details(request)
    return kit.message(
        join([head, details], "\n"),
        kit.section(glass) if glass else None,
        kit.section(head),
        kit.context(details),
    )
