"""The approval message supervisors act on, and the notice a break-glass transfer leaves behind.

The same function renders the message for every state: while pending it carries Approve/Deny;
once the request moves on the reconciler re-renders it in place, buttons gone, saying what
happened, who did it and when. The facts shown are the ones at request time (labelled so),
because after the transfer "current queue" would be a lie.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.request import RequestState, TransferRequest
from bot.slack import kit
from bot.slack.render import describe as d
from bot.slack.text import clock, code, esc, join, mention, short_id

S = RequestState
APPROVE = "transfer_approve"
DENY = "transfer_deny"


def approval_block_id(request_id: str) -> str:
    """Unique per request, so several approval messages never share a block id."""
    return f"approval:{request_id}"


def decision_buttons(request: TransferRequest, *, block_id: str | None = None) -> kit.Block:
    """Approve (primary) / Deny (danger), valued with the request id; also used on the Home tab."""
    return kit.actions(
        block_id or approval_block_id(request.id),
        kit.button("Approve", APPROVE, request.id, style="primary"),
        kit.button("Deny", DENY, request.id, style="danger"),
    )


def facts(request: TransferRequest, *, show_number: bool) -> str:
    """The request-time facts an approver decides on, one `*Label:* value` line each."""
    snap = request.snapshot
    lines = [
        ("Target", d.target_detail(request, show_number=show_number)),
        ("Conversation", d.conversation(request)),
        ("Agent on it", esc(snap.agent_name, 200) if snap and snap.agent_name else ""),
        ("Queue at request time", d.queue_then(request)),
        (f"{d.kind(request).capitalize()} going for", d.going_for(request)),
    ]
    return "\n".join(f"*{label}:* {value}" for label, value in lines if value)


def _banner(request: TransferRequest) -> kit.Block | None:
    if not request.break_glass:
        return None
    return kit.section(f":rotating_light: *Break glass:* {mention(request.requester_id)} used `/transfer --now`, "
                       "so this was sent without waiting for approval.")


def _head(request: TransferRequest, *, show_number: bool) -> str:
    verb = "asks" if request.state in (S.RECEIVED, S.PENDING) else "asked"
    article = "an" if d.kind(request)[:1] in "aeiou" else "a"
    return (f":telephone_receiver: {mention(request.requester_id)} {verb} to transfer {article} {d.kind(request)} to "
            f"{d.target(request, show_number=show_number)}.")


def _expiry(request: TransferRequest, now: datetime) -> str:
    if request.expires_at is None:
        return ""
    if request.expires_at <= now:  # the sweeper hasn't got to it yet; clicks will say "already expired"
        return f"Expired at {clock(request.expires_at)}; closing it"
    return f"Expires at {clock(request.expires_at)} if nobody acts"


def _needs(request: TransferRequest) -> str:
    if request.approvals_required > 1 and not request.votes:
        return f"Needs {request.approvals_required} approvals"
    return ""


def _fallback(request: TransferRequest, *, show_number: bool) -> str:
    verb = "asks" if request.state in (S.RECEIVED, S.PENDING) else "asked"
    what = (f"{mention(request.requester_id)} {verb} to move {d.kind(request)} {short_id(request.conversation_id)} "
            f"to {d.target(request, show_number=show_number, bold=False)}")
    if request.state is S.PENDING:
        return f"Transfer approval needed: {what}"
    return f"{d.outcome(request, show_number=show_number)} ({what})"


def approval_message(request: TransferRequest, now: datetime, *, show_number: bool) -> dict[str, Any]:
    """chat.postMessage/chat.update body for the approval channel, for whatever state the request is in.

    `now` is when it is rendered (an overdue request says so); `show_number`: whether this
    channel may see an outside number unmasked. Add `response_type` if sent by response_url.
    """
    pending = request.state is S.PENDING
    request_ref = f"Request {code(short_id(request.id))}"
    if pending:
        tail = [
            kit.section(d.votes(request)) if d.votes(request) else None,
            decision_buttons(request),
            kit.context(_expiry(request, now), _needs(request), request_ref),
        ]
    else:
        tail = [kit.context(join([d.approved_by(request), d.confirmation(request), d.correlation(request),
                                  request_ref]))]
    outcome = None if pending else kit.section(d.outcome_and_problem(request, show_number=show_number))
    return kit.message(
        _fallback(request, show_number=show_number),
        _banner(request),
        kit.section(_head(request, show_number=show_number)),
        outcome,
        kit.section(facts(request, show_number=show_number) or d.conversation(request)),
        *tail,
    )


def break_glass_notice(request: TransferRequest) -> dict[str, Any]:
    """Posted to the approval channel when an approver skipped approval with `/transfer --now`."""
    snap = request.snapshot
    agent = f" (agent: {esc(snap.agent_name, 120)})" if snap and snap.agent_name else ""
    head = (f":rotating_light: *Break glass:* {mention(request.requester_id)} used `/transfer --now` to send "
            f"{d.conversation(request)}{agent} to {d.target(request)} without waiting for approval.")
    when = f"Sent at {clock(request.sent_at)}" if request.sent_at else ""
    return kit.message(
        f"Break glass: {mention(request.requester_id)} transferred {d.kind(request)} "
        f"{short_id(request.conversation_id)} to {d.target(request, bold=False)} without approval",
        kit.section(head),
        kit.section(d.outcome_and_problem(request)),
        kit.context(join([when, d.confirmation(request), d.correlation(request),
                          f"Request {code(short_id(request.id))}"])),
    )
