"""Plain, short terminal wording for outcomes and problems (Slack has its own, richer wording)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.problems import Code, Problem
from bot.domain.request import RequestState, TransferRequest
from bot.domain.target import TargetKind, mask_number

S = RequestState

_PROBLEMS: dict[Code, str] = {
    Code.BAD_CALL_REF: "the call must be a conversation id (UUID), a Genesys interaction link or agent:<email>",
    Code.MISSING_TARGET: "give a target: a queue name, agent:<email> or +<number>",
    Code.BAD_TARGET: "the target is not a queue name, agent:<email> or +<number>",
    Code.CALL_ENDED: "the call has already ended",
    Code.CALL_NO_CUSTOMER: "the call has no connected customer",
    Code.CALL_IN_IVR: "the call is still in the IVR; no agent holds it",
    Code.CALL_IN_QUEUE: "the call is waiting in a queue with no agent yet",
    Code.CALL_ALERTING: "the call is still ringing at an agent",
    Code.CALL_NO_AGENT: "no agent is connected to the call",
    Code.CALL_CONFERENCE: "several agents are connected (a conference)",
    Code.CALL_STATE_UNKNOWN: "Genesys reported a leg state this bot doesn't know ({state})",
    Code.CALL_CHANGED: "the agent on the call changed",
    Code.MEDIA_NOT_SUPPORTED: "that conversation is a {media}; this bot moves calls, chats, emails and callbacks",
    Code.NUMBER_NEEDS_VOICE: "only calls can go to a phone number (this is a {media})",
    Code.CONVERSATION_NOT_FOUND: "Genesys has no conversation with that id visible to this OAuth client",
    Code.CHAT_EMAIL_HIDDEN: "Slack doesn't show that user's email",
    Code.CHAT_USER_UNKNOWN: "no such Slack user",
    Code.NO_GENESYS_USER: "no Genesys user has the email {email}",
    Code.NO_LIVE_CALL: "{agent} has no live call in Genesys right now",
    Code.SEVERAL_CALLS: "{agent} has {count} live calls; run it again with the id of the one to move",
    Code.QUEUE_NOT_FOUND: "no queue named {name!r}",
    Code.QUEUE_AMBIGUOUS: "{name!r} matches several queues; add the division, e.g. \"Name (Division)\", or use the id",
    Code.AGENT_NOT_FOUND: "no Genesys user has the email {email}",
    Code.AGENT_INACTIVE: "{agent} is inactive in Genesys",
    Code.AGENT_NO_STATION: "{agent} has no station, so can't take a call",
    Code.AGENT_ALREADY_ON_CALL: "{agent} is the agent already on the call",
    Code.NUMBERS_DISABLED: "transfers to numbers are off (set TRANSFER_EXTERNAL_PREFIXES)",
    Code.NUMBER_NOT_ALLOWED: "{masked} is outside TRANSFER_EXTERNAL_PREFIXES",
    Code.NUMBER_INVALID: "not an E.164 number",
    Code.FORBIDDEN: "Genesys refused permission; the OAuth client's role needs {permission}",
    Code.AUTH: "Genesys rejected the OAuth client id/secret (check them and the region)",
    Code.RATE_LIMITED: "Genesys is rate-limiting this client; nothing was sent, try again in a minute",
    Code.UNAVAILABLE: "Genesys could not be reached{cause}",
    Code.TIMEOUT: "Genesys did not answer in time{cause}",
    Code.REJECTED: "Genesys rejected it: {message}",
    Code.UNREADABLE: "Genesys sent an answer this bot can't read",
    Code.GENESYS_ERROR: "Genesys returned an error: {message}",
    Code.UNCERTAIN: "Genesys may or may not have done it; check the call before trying again (not resent)",
    Code.FAILED_AFTER_ACCEPT: "Genesys accepted the transfer but it failed ({genesys_state})",
    Code.NEVER_CONFIRMED: "Genesys accepted it but never confirmed it; check the call",
    Code.ALREADY_PENDING: "a transfer of this call to {target} is already waiting for approval",
    Code.IN_PROGRESS: "another transfer of this call is in progress",
    Code.NOT_APPROVER: "only approvers may decide",
    Code.SELF_APPROVAL: "requesters can't approve their own requests",
    Code.NOT_REQUESTER: "only the requester may do that",
    Code.ALREADY_VOTED: "already voted",
    Code.BREAK_GLASS_NOT_ALLOWED: "--now is not allowed for this target",
    Code.REQUEST_NOT_FOUND: "no such request",
    Code.APPROVAL_POST_FAILED: "the approval message could not be posted ({error})",
    Code.NO_APPROVERS: "this transfer needs approval but no approvers are configured",
    Code.BOT_RESTARTED: "the bot stopped before finishing it; nothing was sent",
    Code.INTERNAL: "an unexpected error in the bot",
}


# GenesysError.cause codes (bot/genesys/failures.py), said plainly; {host} is the host that failed.
_CAUSES: dict[str, str] = {
    "dns": "DNS lookup failed for {host}",
    "refused": "{host} refused the connection",
    "tls": "the TLS (https) handshake with {host} failed",
    "connect_timeout": "timed out connecting to {host}",
    "timeout": "{host} did not answer in time",
    "dropped": "the connection to {host} dropped",
    "pool": "too many requests in flight to {host}",
    "starting": "the Genesys client was still starting",
    "failed": "the Genesys client failed to start",
}


def _cause(cause: str | None, host: str | None) -> str:
    if not cause:
        return ""
    phrase = _CAUSES.get(cause)
    if phrase is None:
        return f" ({cause}{' at ' + host if host else ''})"
    return f" ({phrase.format(host=host or 'Genesys')})"


class _Facts(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def problem_text(problem: Problem) -> str:
    facts = _Facts(problem.facts)
    permissions = problem.fact("permissions") or []
    facts["permission"] = " or ".join(permissions) if permissions else "the right permission"
    facts["cause"] = _cause(problem.fact("cause"), problem.fact("host"))
    candidates = problem.fact("candidates") or []
    facts["count"] = len(candidates) or "several"
    text = _PROBLEMS.get(problem.code, problem.code.value).format_map(facts)
    text += "".join(f"\n  {_candidate(c)}" for c in candidates if isinstance(c, dict))
    suggestions = problem.fact("suggestions") or []
    if suggestions:
        text += f"; did you mean: {', '.join(suggestions)}?"
    if problem.correlation_id:
        text += f" [Genesys correlation id {problem.correlation_id}]"
    return text


def _candidate(candidate: dict) -> str:
    """One of an agent's live calls: full id (to paste), queue, how long it has been going."""
    parts = [str(candidate.get("conversation_id") or "?"), str(candidate.get("queue") or "(no queue)")]
    try:
        started = datetime.fromisoformat(str(candidate.get("started")))
    except ValueError:
        started = None
    if started is not None:
        seconds = max(0, int((datetime.now(UTC) - (started if started.tzinfo else started.replace(tzinfo=UTC)))
                            .total_seconds()))
        parts.append(f"going for {seconds // 60} min {seconds % 60:02d} s")
    return "  ".join(parts)


def target_text(request: TransferRequest) -> str:
    target = request.target
    if target is None:
        return request.ask.target
    if target.kind is TargetKind.NUMBER:
        return mask_number(target.id)
    return target.label


def outcome_text(request: TransferRequest) -> str:
    media = request.media.value if request.media else "conversation"
    where = f"{media} {request.conversation_id} → {target_text(request)}"
    if request.state is S.SUCCEEDED:
        return f"Transferred: {where}"
    if request.state is S.ACCEPTED:
        return f"Transfer sent, Genesys accepted it (not yet confirmed): {where}"
    if request.state is S.PENDING:
        return f"Waiting for approval: request {request.id}"
    reason = problem_text(request.problem) if request.problem else request.state.value
    return f"Not transferred ({request.state.value}): {reason}"
