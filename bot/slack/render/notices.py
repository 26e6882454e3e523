"""What one person is told privately: the requester about their request, a clicker about a click.

These go out as ephemeral messages or response_url bodies (only the requester or clicker sees
them), or as a thread reply that mentions the requester when the request ends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.problems import Code
from bot.domain.request import RequestState, TransferRequest
from bot.service.decisions import ClickOutcome, ClickResult
from bot.slack import kit
from bot.slack.origin import decode_message_ref
from bot.slack.render import describe as d
from bot.slack.text import BUTTON_TEXT, channel_link, clock, code, cut, duration, esc, join, mention, short_id
from bot.slack.wording import problem_text, working_on_it

S = RequestState
CANCEL = "transfer_cancel"
PICK_CALL = "transfer_pick_call"
MAX_CANDIDATES = 10

_ALREADY = {
    S.APPROVED: "already approved",
    S.EXECUTING: "already approved and being transferred",
    S.ACCEPTED: "already approved and being transferred",
    S.SUCCEEDED: "already approved and transferred",
    S.FAILED: "already approved, but the transfer failed",
    S.UNCERTAIN: "already approved, but Genesys never said whether the transfer happened",
    S.DENIED: "already denied",
    S.CANCELLED: "already cancelled",
    S.EXPIRED: "already expired",
    S.SUPERSEDED: "already closed because the call changed before approval",
    S.REFUSED: "already refused",
    S.RECEIVED: "still being checked",
    S.PENDING: "still waiting for approval",
}


def cancel_button(request: TransferRequest) -> dict[str, Any]:
    """The requester's Cancel (value: the request id), on their notice and their Home tab."""
    return kit.button("Cancel request", CANCEL, request.id)


def _your_transfer(request: TransferRequest) -> str:
    return f"Your transfer of {d.conversation(request)} to {d.target(request, show_number=True)}"


def _pending(request: TransferRequest) -> dict[str, Any]:
    ref = decode_message_ref(request.message_ref)
    where = f" in {channel_link(ref.channel)}" if ref else ""
    needs = f" It needs {request.approvals_required} approvals." if request.approvals_required > 1 else ""
    expires = f" If nobody acts, it expires at {clock(request.expires_at)}." if request.expires_at else ""
    text = f":hourglass: {_your_transfer(request)} is waiting for a supervisor's approval{where}.{needs}{expires}"
    return kit.ephemeral(text, kit.section(text), kit.actions(f"cancel:{request.id}", cancel_button(request)))


def _how_long(started_iso: object, now: datetime | None) -> str:
    """"going for 4 min 10 s" (or "started 10:02 UTC" without a `now`); "" when unknown."""
    try:
        started = datetime.fromisoformat(str(started_iso)) if started_iso else None
    except ValueError:
        return ""
    if started is None:
        return ""
    started = started if started.tzinfo else started.replace(tzinfo=UTC)
    return f"going for {duration(now - started)}" if now else f"started {clock(started)}"


def _candidate(request: TransferRequest, index: int, candidate: dict[str, Any],
               now: datetime | None) -> kit.Block | None:
    conversation_id = str(candidate.get("conversation_id") or "")
    if not conversation_id:
        return None
    queue = str(candidate.get("queue") or "")
    going = _how_long(candidate.get("started"), now)
    line = join([f"call {code(short_id(conversation_id))}", f"from {esc(queue, 100)}" if queue else "", going])
    label = cut(join([short_id(conversation_id), queue, going.removeprefix("going for ")]), BUTTON_TEXT - 9)
    return kit.section(line, block_id=f"pick:{request.id}:{index}",
                       accessory=kit.button(f"Transfer {label}", PICK_CALL, f"{request.id}:{conversation_id}"))


def _several_calls(request: TransferRequest, now: datetime | None) -> dict[str, Any]:
    candidates = list((request.problem.fact("candidates") if request.problem else None) or [])[:MAX_CANDIDATES]
    head = problem_text(request.problem) if request.problem else ""
    text = f":point_down: {head}"
    picks = [_candidate(request, i, c, now) for i, c in enumerate(candidates)]
    return kit.ephemeral(
        text,
        kit.section(text),
        *picks,
        kit.context(f"Nothing is transferred until you pick one. Target: {d.target(request, show_number=True)}."),
    )


def _refused(request: TransferRequest) -> str:
    return f":warning: *Not transferred.* {d.problem(request) or 'Nothing was sent.'}"


def requester_notice(request: TransferRequest, now: datetime | None = None) -> dict[str, Any]:
    """The requester's private view of their request (ephemeral / response_url body, never replaces).

    `now` lets a several-calls choice say how long each call has been going (else when it started).
    """
    if request.state is S.PENDING:
        return _pending(request)
    problem = request.problem
    if request.state is S.REFUSED and problem is not None and problem.code is Code.SEVERAL_CALLS:
        return _several_calls(request, now)
    if request.state is S.RECEIVED:
        text = working_on_it(request.ask)
    elif request.state is S.REFUSED:
        text = _refused(request)
    else:
        text = join([f"{_your_transfer(request)}:", d.outcome_and_problem(request, show_number=True),
                     d.correlation(request)], "\n")
    return kit.ephemeral(text, kit.section(text))


def thread_reply(request: TransferRequest) -> str:
    """The in-thread note that tells the requester (by mention) how their request ended."""
    return join([
        f"{mention(request.requester_id)} {d.outcome(request)}",
        d.approved_by(request) and d.approved_by(request) + ".",
        d.problem(request),
        d.correlation(request),
    ], "\n")


def _already(request: TransferRequest | None) -> str:
    if request is None:
        return "That request has already moved on."
    who = ""
    if request.acted_by and request.state not in (S.EXPIRED, S.REFUSED):
        who = f" by {mention(request.acted_by)}"
    when = request.expires_at if request.state is S.EXPIRED else request.acted_at
    at = f" at {clock(when)}" if when else ""
    return f"This request was {_ALREADY.get(request.state, esc(request.state.value))}{who}{at}."


def _done(result: ClickResult, verb: str) -> str:
    request = result.request
    if request is None:
        return "Done."
    if verb == "deny":
        return f"Denied. {mention(request.requester_id)} will be told; nothing was sent."
    if verb == "cancel":
        return "Cancelled. Nothing was sent."
    lead = "Approved." if verb == "approve" else ""
    return join([lead, d.outcome(request), d.problem(request)], "\n")


def click_reply(result: ClickResult, verb: str) -> dict[str, Any]:
    """What the clicker is told privately. `verb`: approve, deny, cancel or pick.

    A Cancel or a pick replaces the private notice its button was on (that button is spent).
    """
    outcome = result.outcome
    if outcome is ClickOutcome.REFUSED and result.problem is not None:
        text = f":no_entry_sign: {problem_text(result.problem)}"
    elif outcome is ClickOutcome.ALREADY:
        text = _already(result.request)
    elif outcome is ClickOutcome.VOTED and result.request is not None:
        req = result.request
        text = (f"Your approval is recorded ({len(req.votes)} of {req.approvals_required}). "
                "It goes ahead when enough approvers agree.")
    elif outcome is ClickOutcome.PICKED and result.request is not None:
        text = join([f"Picked call {code(short_id(result.request.conversation_id))}.",
                     d.outcome_and_problem(result.request, show_number=True)], "\n")
    else:
        text = _done(result, verb)
    replace = verb in ("cancel", "pick") and outcome in (ClickOutcome.DONE, ClickOutcome.ALREADY, ClickOutcome.PICKED)
    return kit.ephemeral(text, kit.section(text), replace_original=replace)
