"""Slack messages: every piece of user or Genesys text is escaped before it reaches mrkdwn.

Only `&`, `<` and `>` are control characters in Slack text; text objects also get
`verbatim: true` so Slack does not auto-link `@here` or `#channel` typed into a queue name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.domain.model import RequestState, TransferRequest
from bot.service.ports import Ending
from bot.service.problems import Problem
from bot.service.transfers import SYSTEM, describe_finished, finished_verb

S = RequestState
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

APPROVE = "transfer_approve"
DENY = "transfer_deny"
CANCEL = "transfer_cancel"


def escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """A user mention, only for ids that look like Slack user ids; anything else is escaped text."""
    if user_id == SYSTEM:
        return "the bot"
    return f"<@{user_id}>" if _USER_ID.match(user_id) else escape(user_id)


def short_id(conversation_id: str) -> str:
    return conversation_id[:8]


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000], "verbatim": True}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000], "verbatim": True}]}


USAGE = (
    "*Usage:* `/transfer <conversation-id> <queue name>`\n"
    "• The conversation id is the Genesys interaction's UUID; a pasted interaction link works too.\n"
    "• The queue name is everything after the id and may contain spaces, e.g. "
    "`/transfer 3f1c2a4e-9b7d-4c1e-8f00-1234567890ab Support Tier 2`.\n"
    "• The call must be live with exactly one agent connected; it is blind-transferred to the queue.\n"
    "• Some transfers need a supervisor's approval; you'll be told where to find the request."
)


def usage(prefix: str | None = None) -> dict:
    text = f"{escape(prefix)}\n\n{USAGE}" if prefix else USAGE
    return {"response_type": "ephemeral", "text": text, "blocks": [_section(text)]}


def working_on_it(conversation_id: str, queue_name: str) -> str:
    return (
        f"Working on it: checking call `{escape(short_id(conversation_id))}` "
        f"and queue “{escape(queue_name)}”…"
    )


def problem(problem: Problem, *, heading: str = "Not transferred") -> dict:
    """Private reply for a refusal or failure: what happened, what to do next, how to trace it."""
    lines = [f":warning: *{escape(heading)}.* {escape(problem.message)}"]
    if problem.next_step:
        lines.append(f"*Next:* {escape(problem.next_step)}")
    if problem.correlation_id:
        lines.append(f"Genesys correlation id: `{escape(problem.correlation_id)}`")
    text = "\n".join(lines)
    return {"response_type": "ephemeral", "replace_original": False, "text": text, "blocks": [_section(text)]}


def _outcome_line(request: TransferRequest) -> str:
    queue = escape(request.queue_name)
    if request.state is S.SUCCEEDED and request.outcome == "confirmed":
        return f":white_check_mark: *Transferred:* the customer is now waiting in *{queue}*."
    if request.state is S.SUCCEEDED:
        return (
            f":hourglass_flowing_sand: *Transfer sent:* Genesys accepted the transfer to *{queue}* "
            "but has not confirmed it yet."
        )
    return f":x: *Transfer to {queue} failed.*"


def _facts(request: TransferRequest) -> str:
    parts = [
        f"Requested by {mention(request.requester_id)}",
        f"call `{escape(short_id(request.conversation_id))}`",
        f"queue *{escape(request.queue_name)}*",
    ]
    if request.outcome == "confirmed":
        parts.append("Genesys confirmed")
    elif request.outcome == "pending":
        parts.append("Genesys accepted (202), not yet confirmed")
    if request.correlation_id:
        parts.append(f"correlation id `{escape(request.correlation_id)}`")
    return " · ".join(parts)


def direct_result(ending: Ending) -> dict:
    """The channel-visible result of a transfer that needed no approval."""
    request = ending.request
    lines = [_outcome_line(request)]
    if ending.problem:
        lines.append(escape(ending.problem.message))
        if ending.problem.next_step:
            lines.append(f"*Next:* {escape(ending.problem.next_step)}")
    head = "\n".join(lines)
    facts = _facts(request)
    return {
        "response_type": "in_channel",
        "text": f"{head}\n{facts}",
        "blocks": [_section(head), _context(facts)],
    }


def _duration(start: datetime | None, now: datetime) -> str:
    if start is None:
        return "unknown"
    seconds = max(0, int((now - start).total_seconds()))
    return f"{seconds // 60} min {seconds % 60:02d} s"


def _snapshot_fields(request: TransferRequest, now: datetime) -> str:
    snap = request.snapshot
    current = snap.current_queue_name or (snap.current_queue_id and short_id(snap.current_queue_id)) or "none"
    return (
        f"*Agent:* {escape(snap.agent_name or 'unknown')}\n"
        f"*Current queue:* {escape(current)}\n"
        f"*Call duration:* {_duration(snap.call_started, now)} (when requested)\n"
        f"*Conversation:* `{escape(short_id(request.conversation_id))}`"
    )


def approval_request(request: TransferRequest, now: datetime | None = None) -> dict:
    """The channel message supervisors act on."""
    now = now or datetime.now(UTC)
    head = (
        f":telephone_receiver: {mention(request.requester_id)} asks to transfer a call to "
        f"*{escape(request.queue_name)}*."
    )
    expires = f"Expires at {request.expires_at:%H:%M} UTC if nobody acts." if request.expires_at else ""
    buttons = {
        "type": "actions",
        "block_id": f"approval:{request.id}",
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE,
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "value": request.id,
            },
            {
                "type": "button",
                "action_id": DENY,
                "text": {"type": "plain_text", "text": "Deny"},
                "style": "danger",
                "value": request.id,
            },
        ],
    }
    return {
        "text": f"Transfer approval needed: call {short_id(request.conversation_id)} to {escape(request.queue_name)}",
        "blocks": [_section(head), _section(_snapshot_fields(request, now)), buttons, _context(expires)],
    }


def pending_notice(request: TransferRequest, channel: str) -> dict:
    """Private note to the requester, with their Cancel button."""
    text = (
        f":hourglass: Your transfer of call `{escape(short_id(request.conversation_id))}` to "
        f"*{escape(request.queue_name)}* is waiting for a supervisor's approval in <#{escape(channel)}>."
    )
    return {
        "response_type": "ephemeral",
        "text": text,
        "blocks": [
            _section(text),
            {
                "type": "actions",
                "block_id": f"cancel:{request.id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": CANCEL,
                        "text": {"type": "plain_text", "text": "Cancel request"},
                        "value": request.id,
                    }
                ],
            },
        ],
    }


_ENDING_HEAD = {
    S.DENIED: ":no_entry: *Denied*",
    S.CANCELLED: ":leftwards_arrow_with_hook: *Cancelled by the requester*",
    S.EXPIRED: ":alarm_clock: *Expired*: nobody approved it in time",
    S.SUPERSEDED: ":twisted_rightwards_arrows: *Not transferred*: the call changed before approval",
}


def _ending_head(ending: Ending) -> str:
    request = ending.request
    if request.state in (S.SUCCEEDED, S.FAILED, S.EXECUTING, S.APPROVED):
        return _outcome_line(request)
    return _ENDING_HEAD.get(request.state, escape(request.state.value))


def _who_when(request: TransferRequest) -> str:
    actor = request.acted_by
    if not actor or actor == SYSTEM or request.state is S.EXPIRED:
        when = request.acted_at or request.expires_at
        return f"at {when:%H:%M} UTC" if when else ""
    verb = {S.DENIED: "Denied", S.CANCELLED: "Cancelled"}.get(request.state, "Approved")
    when = f" at {request.acted_at:%H:%M} UTC" if request.acted_at else ""
    return f"{verb} by {mention(actor)}{when}"


def approval_ended(ending: Ending, now: datetime | None = None) -> dict:
    """Replaces the approval message: buttons gone, the outcome, who acted and when."""
    request = ending.request
    now = now or datetime.now(UTC)
    lines = [_ending_head(ending)]
    if ending.problem:
        lines.append(escape(ending.problem.message))
    who = _who_when(request)
    head = "\n".join(lines)
    context = " · ".join(x for x in (who, _facts(request)) if x)
    return {
        "text": f"Transfer request {finished_verb(request).replace('already ', '')}: call "
        f"{short_id(request.conversation_id)} to {escape(request.queue_name)}",
        "blocks": [_section(head), _section(_snapshot_fields(request, now)), _context(context)],
    }


def requester_update(ending: Ending) -> str:
    """Thread reply that tells the requester how their request ended."""
    request = ending.request
    lines = [f"{mention(request.requester_id)} {_ending_head(ending)}"]
    who = _who_when(request)
    if who:
        lines.append(who + ".")
    if ending.problem:
        lines.append(escape(ending.problem.message))
        if ending.problem.next_step:
            lines.append(f"*Next:* {escape(ending.problem.next_step)}")
    if request.correlation_id:
        lines.append(f"Genesys correlation id: `{escape(request.correlation_id)}`")
    return "\n".join(lines)


def already_finished(request: TransferRequest) -> dict:
    text = describe_finished(request, mention)
    return {"response_type": "ephemeral", "replace_original": False, "text": text, "blocks": [_section(text)]}


def private(text: str, *, replace_original: bool = False) -> dict:
    body = escape(text)
    return {
        "response_type": "ephemeral",
        "replace_original": replace_original,
        "text": body,
        "blocks": [_section(body)],
    }
