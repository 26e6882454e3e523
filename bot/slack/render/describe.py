"""Sentences about one request, shared by every message that shows it.

One place decides how a state, a target or an outcome reads, so the channel message, the
requester's notice, the thread reply and the Home tab never disagree.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.conversation import QueueHealth
from bot.domain.request import RequestState, TransferRequest
from bot.domain.target import TargetKind, mask_number
from bot.slack.text import approx, clock, code, duration, esc, join, mention, short_id
from bot.slack.wording import describe_call, describe_target, problem_text

S = RequestState
APPROVED_THEN = frozenset({S.APPROVED, S.EXECUTING, S.ACCEPTED, S.SUCCEEDED, S.FAILED, S.UNCERTAIN, S.SUPERSEDED})


def kind(request: TransferRequest) -> str:
    """"call", "chat", "email", "callback"; "conversation" before the bot has read it."""
    return request.media.noun if request.media else "conversation"


def conversation(request: TransferRequest) -> str:
    """call `3f1c2a4e`, or what was typed when the conversation was never found (@alice's live call)."""
    if request.conversation_id:
        return f"{kind(request)} {code(short_id(request.conversation_id))}"
    return describe_call(request.ask.call)


def target(request: TransferRequest, *, show_number: bool = False, bold: bool = True) -> str:
    """The destination's name (bold), the number masked unless this audience may see it."""
    t = request.target
    if t is None:
        return describe_target(request.ask.target, show_number=show_number)
    name = t.id if t.kind is TargetKind.NUMBER else t.name
    if t.kind is TargetKind.NUMBER and not show_number:
        name = mask_number(t.id)
    text = esc(name, 200)
    return f"*{text}*" if bold and text else text


def health(value: QueueHealth | None) -> str:
    """3 available, 5 waiting, ~2 min wait; "" when Genesys told us nothing."""
    if value is None:
        return ""
    parts = []
    if value.available is not None:
        parts.append(f"{value.available} available")
    if value.waiting is not None:
        parts.append(f"{value.waiting} waiting")
    if value.estimated_wait_seconds is not None:
        parts.append(f"{approx(value.estimated_wait_seconds)} wait")
    return ", ".join(parts)


def routing(status: str | None) -> str:
    """ON_QUEUE → "on queue"."""
    return esc(status.replace("_", " ").casefold(), 40) if status else ""


def target_detail(request: TransferRequest, *, show_number: bool = False) -> str:
    """The target with what the approver should weigh: queue health or the agent's routing status then."""
    t = request.target
    name = target(request, show_number=show_number, bold=False)
    snap = request.snapshot
    if t is None or snap is None:
        return name
    if t.kind is TargetKind.QUEUE:
        known = health(snap.target_health)
        return f"{name} had {known}" if known else name
    if t.kind is TargetKind.AGENT:
        email = f", {esc(t.detail, 120)}" if t.detail else ""
        status = f"; {routing(snap.target_routing_status)} when asked" if snap.target_routing_status else ""
        return f"{name} (agent{email}){status}"
    return f"{name} (outside number)"


def going_for(request: TransferRequest) -> str:
    """How long the conversation had been going when the request was made."""
    started = request.snapshot.started if request.snapshot else None
    if started is None:
        return ""
    return f"{duration(request.created_at - started)} when requested"


def queue_then(request: TransferRequest) -> str:
    """The queue the conversation was in when asked; "none" when it came in directly."""
    snap = request.snapshot
    if snap is None:
        return ""
    if snap.queue_at_request_name:
        return esc(snap.queue_at_request_name, 200)
    return code(short_id(snap.queue_at_request_id)) if snap.queue_at_request_id else "none"


def actor(request: TransferRequest) -> str:
    """Who acted last (mention, "the bot" or "operator …")."""
    return mention(request.acted_by)


def at(when: datetime | None) -> str:
    """" at 10:02 UTC", or "" when the time is unknown."""
    return f" at {clock(when)}" if when else ""


def approved_by(request: TransferRequest) -> str:
    """"Approved by <@U…> at 10:02 UTC" once an approver let it through; "" otherwise."""
    if request.needs_approval and request.acted_by and request.state in APPROVED_THEN:
        return f"Approved by {actor(request)}{at(request.acted_at)}"
    return ""


def votes(request: TransferRequest) -> str:
    """"1 of 2 approvals: <@sam>" while more are needed."""
    if not request.votes or request.approvals_required <= 1:
        return ""
    who = ", ".join(mention(v.approver) for v in request.votes)
    return f"{len(request.votes)} of {request.approvals_required} approvals: {who}"


def _succeeded(request: TransferRequest, show_number: bool) -> str:
    t = request.target
    name = target(request, show_number=show_number, bold=False)
    if t is not None and t.kind is TargetKind.AGENT:
        return f":white_check_mark: *Transferred: the customer is now with {name}.*"
    if t is not None and t.kind is TargetKind.NUMBER:
        return f":white_check_mark: *Transferred: the call now goes to {name}.*"
    return f":white_check_mark: *Transferred: the customer is now waiting in {name}.*"


def _cancelled(request: TransferRequest) -> str:
    by_other = request.acted_by and request.acted_by != request.requester_id
    who = actor(request) if by_other else "the requester"
    return f":leftwards_arrow_with_hook: Cancelled by {who}{at(request.acted_at)}. Nothing was sent."


def outcome(request: TransferRequest, *, show_number: bool = False) -> str:
    """One line: where the request stands now."""
    state = request.state
    if state is S.SUCCEEDED:
        return _succeeded(request, show_number)
    if state in (S.EXECUTING, S.ACCEPTED):
        return ":hourglass_flowing_sand: Transfer sent; waiting for Genesys to confirm…"
    if state is S.DENIED:
        return f":no_entry: Denied by {actor(request)}{at(request.acted_at)}. Nothing was sent."
    if state is S.CANCELLED:
        return _cancelled(request)
    if state is S.EXPIRED:
        when = f" (at {clock(request.expires_at)})" if request.expires_at else ""
        return f":alarm_clock: Expired: nobody approved it in time{when}. Nothing was sent."
    return _OTHER_STATES.get(state, f"*{esc(state.value)}*")


_OTHER_STATES = {
    S.RECEIVED: ":mag: Checking the conversation and the target…",
    S.PENDING: ":hourglass: *Waiting for approval.*",
    S.APPROVED: ":arrow_forward: Approved; sending the transfer…",
    S.FAILED: ":x: *Not transferred.*",
    S.UNCERTAIN: ":warning: *Transfer outcome unknown.*",
    S.REFUSED: ":no_entry_sign: *Not transferred.*",
    S.SUPERSEDED: ":twisted_rightwards_arrows: *Not transferred: the call changed before approval.* Nothing was sent.",
}


def problem(request: TransferRequest) -> str:
    """The worded problem with its next step and correlation id; "" when there is none."""
    if request.problem is None:
        return ""
    return problem_text(request.problem, correlation_id=request.correlation_id, state=request.state)


def correlation(request: TransferRequest) -> str:
    """The correlation id line when the problem text doesn't already carry it."""
    if request.problem is not None or not request.correlation_id:
        return ""
    return f"Genesys correlation id: {code(request.correlation_id)}"


def confirmation(request: TransferRequest) -> str:
    """What Genesys has said about the transfer so far."""
    if request.state is S.SUCCEEDED:
        return f"Genesys confirmed{at(request.updated_at)}"
    if request.state is S.ACCEPTED:
        return "Genesys accepted it (not confirmed yet)"
    return ""


def outcome_and_problem(request: TransferRequest, *, show_number: bool = False) -> str:
    """The outcome line, then the worded problem (with next step and correlation id) if any."""
    return join([outcome(request, show_number=show_number), problem(request)], "\n")


def time_left(request: TransferRequest, now: datetime) -> str:
    """How long an approver still has: "expires in 4 min 10 s"."""
    if request.expires_at is None:
        return ""
    left = request.expires_at - now
    return f"expires in {duration(left)}" if left.total_seconds() > 0 else "expiring now"
