"""Every Problem worded for Slack: what happened, in one sentence, and what to do next.

The domain keeps only codes and facts (bot/domain/problems.py); this module is the one place
Slack's sentences live. Facts come from Genesys and from people, so every fact is escaped
here; the results are mrkdwn, ready for a `verbatim` text object. Each known code has its own
wording: a test walks the whole Code enum so a new code can't fall back to a vague sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.parsing import AGENT_CHAT, AGENT_EMAIL, ME, NUMBER, QUEUE_ID, is_uuid
from bot.domain.problems import Code, Problem
from bot.domain.request import Ask, RequestState
from bot.domain.target import mask_number
from bot.service.genesys_problems import During
from bot.slack.kit import ephemeral, section
from bot.slack.text import channel_link, clock, code, duration, esc, escape, mention, quoted, short_id

S = RequestState
Facts = Mapping[str, Any]


@dataclass(frozen=True)
class Worded:
    """A problem in words: `what` happened and what to do `next` (both mrkdwn, escaped)."""

    what: str
    next: str | None = None


_DURING = {
    During.READING_CALL: "reading the conversation",
    During.FINDING_CALL: "looking for the agent's live calls",
    During.FINDING_QUEUE: "looking up the queue",
    During.FINDING_AGENT: "looking up the agent",
    During.SENDING: "sending the transfer",
    During.RECHECKING: "re-checking the call before sending",
    During.CONFIRMING: "checking whether the transfer went through",
    "recovery": "checking a transfer after the bot restarted",
}

_MEDIA_NAMES = {
    "cobrowse": "co-browse", "screenshare": "screen-share", "socialexpression": "social media",
    "video": "video", "message": "message", "messages": "message", "chat": "chat", "email": "email",
    "callback": "callback", "call": "call",
}

TRY_LATER = "Nothing was transferred. Try again shortly; if it keeps happening, check status.mypurecloud.com."
ASK_RUNNER = "give the correlation id to whoever runs the bot"


def _during(facts: Facts) -> str:
    value = facts.get("during")
    return _DURING.get(value, esc(value, 80) if value else "talking to Genesys")


def _sent(facts: Facts) -> bool:
    return facts.get("during") in (During.SENDING, During.CONFIRMING, "recovery")


def _media(value: object) -> str:
    return _MEDIA_NAMES.get(str(value or "").casefold(), esc(value or "different", 40))


def _a(noun: str) -> str:
    """"a chat", "an email"."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _it(f: Facts) -> str:
    """"call" unless the facts name another media: the refusals below are about chats and emails too."""
    return _media(f["media"]) if f.get("media") else "call"


def _who(facts: Facts) -> str:
    """The agent a fact names: their mention when we know their Slack id, else their Genesys name."""
    if facts.get("me"):
        return "you"
    chat_user = facts.get("chat_user")
    if chat_user:
        return mention(chat_user)
    return esc(facts.get("agent") or "that agent", 120)


def _when(iso: object) -> str:
    try:
        return clock(datetime.fromisoformat(str(iso)))
    except ValueError:
        return ""


# ---- what was typed --------------------------------------------------------------------------

def _bad_call_ref(f: Facts) -> Worded:
    token = f.get("token") or ""
    example = "Start with the conversation id (or a Genesys interaction link), `@agent` or `me`."
    if not token:
        return Worded("You didn't say which conversation to transfer.", example)
    if f.get("unlinked_mention"):
        return Worded(
            f"{quoted(token, 80)} isn't a Slack mention I can read: pick the person from Slack's list "
            "as you type, so it becomes a real mention.",
            "Or use `agent:their.email@example.com`, or paste the conversation id.",
        )
    return Worded(
        f"{quoted(token, 80)} isn't a conversation id. I need the Genesys conversation id "
        "(a UUID such as `3f1c2a4e-9b7d-4c1e-8f00-1234567890ab`), an interaction link, `@agent` or `me`.",
        "Copy the id from the interaction in Genesys, or run `/transfer` alone to use the form.",
    )


def _missing_target(f: Facts) -> Worded:
    return Worded(
        "You didn't say where to transfer it.",
        "Add a queue name, `@agent`, `agent:email` or a `+` number after the conversation.",
    )


def _bad_target(f: Facts) -> Worded:
    if f.get("too_long"):
        return Worded(f"That target is longer than {int(f['too_long'])} characters; no queue name is that long.",
                      "Check what you pasted, or pick the queue in the `/transfer` form.")
    if f.get("agent") is not None:
        return Worded(f"{quoted('agent:' + str(f['agent']), 80)} isn't an email address I can read.",
                      "Use `agent:alice@example.com`, or mention the agent with `@`.")
    return Worded("I couldn't read where to transfer it.",
                  "Give a queue name, `@agent`, `agent:email` or a `+` number.")


# ---- the conversation ------------------------------------------------------------------------

def _call_ended(f: Facts) -> Worded:
    it = _it(f)
    left = "has hung up" if it == "call" else "left"
    what = (f"That {it} has already ended: the customer {left}, so there is nothing to transfer."
            if f.get("customer_left") else f"That {it} has already ended, so there is nothing to transfer.")
    again = "calls back" if it == "call" else "gets in touch again"
    return Worded(what, f"If the customer {again}, use the new conversation id.")


def _call_state_unknown(f: Facts) -> Worded:
    state = quoted(f.get("state") or "?", 60)
    leg = f" on the {esc(f['purpose'], 40)} leg" if f.get("purpose") else ""
    return Worded(
        f"Genesys reported a state this bot doesn't know ({state}{leg}), so I won't guess whether "
        "the call can be moved.",
        "Transfer it from Genesys directly, and tell whoever runs the bot (it may need an update).",
    )


def _call_conference(f: Facts) -> Worded:
    agents = f.get("agents")
    count = f"{int(agents)} agents" if agents else "several agents"
    return Worded(f"That {_it(f)} is a conference with {count} connected; a blind transfer would be ambiguous.",
                  "Have all but one agent leave the call, or transfer it from Genesys directly.")


def _call_changed(f: Facts) -> Worded:
    then, now = f.get("agent_then"), f.get("agent_now")
    change = f" ({esc(then, 80)} → {esc(now, 80)})" if then and now else ""
    return Worded(f"The agent on the call changed{change} after the request was made.",
                  "Ask again if it should still be transferred.")


def _media_not_supported(f: Facts) -> Worded:
    what = (f"That is {_a(_media(f['media']))} conversation, and I can only transfer calls, chats, emails and "
            "callbacks." if f.get("media") else
            "That conversation isn't a call, chat, email or callback, and those are all I can transfer.")
    return Worded(what, "Transfer it from Genesys directly.")


def _number_needs_voice(f: Facts) -> Worded:
    kind = f"is {_a(_media(f['media']))}" if f.get("media") else "isn't a voice call"
    return Worded(f"Only voice calls can go to an outside number, and that conversation {kind}.",
                  "Pick a queue or an agent instead.")


def _conversation_not_found(f: Facts) -> Worded:
    return Worded(f"Genesys found nothing for that id while {_during(f)}.",
                  "Check the conversation id; the bot's OAuth client must also be allowed to see the "
                  "conversation's division.")


# ---- finding the call by its agent -----------------------------------------------------------

def _person(f: Facts) -> str:
    return f"{mention(f['chat_user'])}'s" if f.get("chat_user") else "that person's"


def _chat_email_hidden(f: Facts) -> Worded:
    return Worded(
        f"I can't see {_person(f)} email address in Slack, so I can't find them in Genesys.",
        "A Slack admin must give the bot the `users:read.email` scope (and let profiles show email "
        "addresses). Until then, use `agent:their.email@example.com` or the conversation id.",
    )


def _chat_user_unknown(f: Facts) -> Worded:
    who = mention(f["chat_user"]) if f.get("chat_user") else "that person"
    return Worded(f"Slack doesn't know {who} (deactivated, or from another workspace).",
                  "Use their email (`agent:…`) or the conversation id instead.")


def _no_genesys_user(f: Facts) -> Worded:
    email = esc(f.get("email") or "that address", 120)
    whose = f" ({mention(f['chat_user'])}'s Slack email)" if f.get("chat_user") else ""
    return Worded(
        f"No Genesys user has the email {email}{whose}.",
        "A Genesys admin must create that user, or set the Genesys user's email to match Slack. "
        "Meanwhile, paste the conversation id.",
    )


def _no_live_call(f: Facts) -> Worded:
    who = _who(f)
    verb = "have" if who == "you" else "has"
    return Worded(f"{who[:1].upper()}{who[1:]} {verb} no live call in Genesys right now.",
                  "If the call just ended there is nothing to transfer; otherwise paste its conversation id.")


def _several_calls(f: Facts) -> Worded:
    who = _who(f)
    verb = "have" if who == "you" else "has"
    count = len(f.get("candidates") or []) or "several"
    return Worded(f"{who[:1].upper()}{who[1:]} {verb} {count} live calls, so I don't know which one you mean.",
                  "Pick the call to transfer, or paste its conversation id.")


# ---- targets ---------------------------------------------------------------------------------

def _queue_not_found(f: Facts) -> Worded:
    name = str(f.get("name") or "")
    suggestions = [esc(s, 100) for s in (f.get("suggestions") or [])][:5]
    if not name:
        return Worded("I couldn't find that queue.", "Pick the queue in the `/transfer` form, or check its name.")
    if is_uuid(name):
        return Worded(f"I couldn't find a queue with id {code(name)}.",
                      "Check the id in Genesys (Admin → Queues), or type the queue's name instead.")
    if suggestions:
        return Worded(f"I couldn't find a queue named {quoted(name, 120)}. Did you mean: {', '.join(suggestions)}?",
                      "Run it again with the exact name, or pick the queue in the `/transfer` form.")
    return Worded(f"I couldn't find a queue named {quoted(name, 120)}, and nothing close to it.",
                  "Check the name in Genesys (Admin → Queues); the bot's OAuth client must be able to see "
                  "its division.")


def _queue_ambiguous(f: Facts) -> Worded:
    candidates = list(f.get("candidates") or [])
    listed = "; ".join(
        f"{esc(c.get('name') or '?', 100)} ({esc(c.get('division') or '?', 60)})" for c in candidates[:10]
    )
    more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
    example = candidates[0] if candidates else {}
    typed = f"`{esc(example.get('name') or 'Billing', 100)} ({esc(example.get('division') or 'EMEA', 60)})`"
    queue_id = f" ({code(example['id'])})" if example.get("id") else ""
    name = quoted(f["name"], 120) if f.get("name") else "That name"
    matches = f"matches {len(candidates)} queues: {listed}{more}" if candidates else "matches several queues"
    return Worded(f"{name} {matches}.",
                  f"Type the division in brackets, e.g. {typed}, or use the queue id{queue_id}, or pick it in "
                  "the `/transfer` form.")


def _agent_not_found(f: Facts) -> Worded:
    return Worded(f"No Genesys user has the email {esc(f.get('email') or 'you gave', 120)}.",
                  "Check the address, or mention the agent with `@`.")


def _agent_inactive(f: Facts) -> Worded:
    return Worded(f"{esc(f.get('agent') or 'That agent', 120)} is inactive in Genesys, so they can't take a transfer.",
                  "Pick another agent or a queue.")


def _agent_no_station(f: Facts) -> Worded:
    return Worded(f"{esc(f.get('agent') or 'That agent', 120)} has no phone station in Genesys, so the call "
                  "can't ring them.", "Ask them to pick a station in Genesys, or pick another agent or a queue.")


def _agent_already_on_call(f: Facts) -> Worded:
    return Worded(f"{esc(f.get('agent') or 'That agent', 120)} is already the agent on that call.",
                  "Pick another agent or a queue.")


def _numbers_disabled(f: Facts) -> Worded:
    masked = esc(f.get("masked") or "that number")
    return Worded(f"Transfers to outside numbers are switched off, so I won't send it to {masked}.",
                  "Pick a queue or an agent, or ask whoever runs the bot to allow number prefixes "
                  "(TRANSFER_EXTERNAL_PREFIXES).")


def _number_not_allowed(f: Facts) -> Worded:
    prefixes = ", ".join(esc(p, 20) for p in (f.get("prefixes") or [])[:10]) or "none"
    return Worded(f"{esc(f.get('masked') or 'That number')} isn't in the numbers I may call (allowed prefixes: "
                  f"{prefixes}).", "Use a number with one of those prefixes, or ask whoever runs the bot.")


def _number_invalid(f: Facts) -> Worded:
    typed = quoted(f["number"], 40) if f.get("number") else "That"
    return Worded(f"{typed} isn't a phone number I can dial.",
                  "Write it in international form with the country code, e.g. `+44 20 7946 0000`.")


# ---- Genesys ---------------------------------------------------------------------------------

def _forbidden(f: Facts) -> Worded:
    permissions = [code(p, 80) for p in (f.get("permissions") or [])]
    lacks = " or ".join(permissions) if permissions else "a permission (or access to the division)"
    return Worded(f"Genesys refused permission while {_during(f)}: the bot's OAuth client lacks {lacks}.",
                  "Ask a Genesys admin to give the bot's OAuth client a role with that permission, in the "
                  "conversation's and the queue's divisions.")


def _auth(f: Facts) -> Worded:
    return Worded("Genesys rejected the bot's credentials, so I couldn't do anything.",
                  "Ask whoever runs the bot to check GENESYS_CLOUD_CLIENT_ID, its secret and the region.")


def _rate_limited(f: Facts) -> Worded:
    return Worded(f"Genesys is rate-limiting the bot right now, so I stopped while {_during(f)}.",
                  "Nothing was transferred. Try again in a minute.")


_CAUSES = {
    "dns": "DNS lookup failed for {host}",
    "refused": "{host} refused the connection",
    "tls": "the TLS handshake with {host} failed",
    "connect_timeout": "timed out connecting to {host}",
    "timeout": "{host} did not answer in time",
    "dropped": "the connection to {host} dropped",
    "pool": "too many requests to {host} at once",
    "starting": "the bot's Genesys client is still starting",
    "failed": "the bot's Genesys client failed to start",
}


def _cause(f: Facts) -> str:
    cause, host = f.get("cause"), f.get("host")
    if cause in _CAUSES:
        return " (" + esc(_CAUSES[cause].format(host=host or "Genesys"), 200) + ")"
    if cause and host:
        return f" ({esc(cause, 120)} at {esc(host, 120)})"
    if cause or host:
        return f" ({esc(cause or host, 120)})"
    return ""


def _unavailable(f: Facts) -> Worded:
    return Worded(f"Genesys could not be reached while {_during(f)}{_cause(f)}.", TRY_LATER)


def _timeout(f: Facts) -> Worded:
    return Worded(f"Genesys did not answer in time while {_during(f)}{_cause(f)}.", TRY_LATER)


def _rejected(f: Facts) -> Worded:
    message = f": {quoted(f['message'], 300)}" if f.get("message") else ""
    return Worded(f"Genesys rejected the request while {_during(f)}{message}.",
                  "The conversation may have changed; check it in Genesys before trying again.")


def _unreadable(f: Facts) -> Worded:
    next_step = ("Check the call in Genesys before trying again." if _sent(f)
                 else f"Try again; if it keeps happening, {ASK_RUNNER}.")
    return Worded(f"Genesys sent an answer I can't read while {_during(f)}.", next_step)


def _genesys_error(f: Facts) -> Worded:
    message = f": {quoted(f['message'], 300)}" if f.get("message") else ""
    return Worded(f"Genesys returned an error while {_during(f)}{message}.",
                  f"Try again; if it keeps happening, {ASK_RUNNER}.")


# ---- outcomes after the POST -----------------------------------------------------------------

def _uncertain(f: Facts) -> Worded:
    if f.get("during") == "recovery":
        agent = f" and {esc(f['agent'], 120)} no longer has it" if f.get("agent") else ""
        what = ("The bot restarted while sending the transfer; the conversation has moved, but not to the "
                f"target{agent}, so the transfer may or may not have happened.")
    else:
        what = "I sent the transfer but Genesys gave no clear answer, so it may or may not have happened."
    return Worded(what, "Genesys may or may not have done it: check the call in Genesys before trying again. "
                        "I did not resend it.")


def _failed_after_accept(f: Facts) -> Worded:
    state = f" ({esc(f['genesys_state'], 60)})" if f.get("genesys_state") else ""
    holder = f"still with {esc(f['agent'], 120)}" if f.get("agent") else "still with the agent"
    return Worded(f"Genesys accepted the transfer but it failed{state}; the caller is {holder}.",
                  "Try again, or transfer it from Genesys directly.")


def _never_confirmed(f: Facts) -> Worded:
    if f.get("ended"):
        what = "Genesys accepted the transfer but never confirmed it, and the conversation has since ended."
    elif f.get("waited_seconds"):
        what = (f"Genesys accepted the transfer but never confirmed it: after {duration(f['waited_seconds'])} "
                "it still showed no result.")
    else:
        what = "Genesys accepted the transfer but never confirmed it."
    return Worded(what, "Check in Genesys (Interactions) where the conversation went, and quote the correlation id "
                        "if you ask Genesys support. I did not resend it.")


# ---- requests and clicks ---------------------------------------------------------------------

def _already_pending(f: Facts) -> Worded:
    when = _when(f.get("asked_at"))
    at = f" at {when}" if when else ""
    target = f" to move it to {esc(f['target'], 120)}" if f.get("target") else ""
    who = mention(f["requester"]) if f.get("requester") else "someone"
    return Worded(f"That call is already waiting for approval: {who} asked{at}{target}.",
                  "Ask them to cancel it or wait for a supervisor.")


def _in_progress(f: Facts) -> Worded:
    return Worded("Another transfer of that call is already being sent.", "Wait for its result before trying again.")


def _not_approver(f: Facts) -> Worded:
    return Worded("You can't approve or deny this: only configured transfer approvers can.",
                  "Ask one of the approvers to look at it.")


def _self_approval(f: Facts) -> Worded:
    return Worded("You can't approve or deny your own request.", "Use Cancel to withdraw it.")


def _not_requester(f: Facts) -> Worded:
    return Worded("Only the person who asked for this transfer can do that.",
                  "Ask them, or start your own with `/transfer`.")


def _already_voted(f: Facts) -> Worded:
    return Worded("You have already approved this request; it needs another approver too.",
                  "Ask another approver to look at it.")


def _break_glass_not_allowed(f: Facts) -> Worded:
    rule = f" (rule {esc(f['rule'], 80)})" if f.get("rule") else ""
    return Worded(f"You can't use `--now` for this transfer{rule}: only its approvers may skip approval, "
                  "and only where the policy allows it.", "Run it again without `--now` to ask for approval.")


def _request_not_found(f: Facts) -> Worded:
    return Worded("I don't know that transfer request (it may be older than the requests the bot keeps).",
                  "Start a new one with `/transfer`.")


def _approval_post_failed(f: Facts) -> Worded:
    error = f.get("error")
    said = f" (Slack said: {esc(error, 80)})" if error else ""
    where = f" in {channel_link(f.get('channel'))}" if f.get("channel") else ""
    what = f"I couldn't post the approval request{where}{said}, so nobody can approve it and nothing was sent."
    if error in ("not_in_channel", "channel_not_found", "is_archived"):
        return Worded(what, f"Invite the bot to {channel_link(f.get('channel'))} (`/invite @bot`), then try again.")
    return Worded(what, "Try again; if it keeps happening, tell whoever runs the bot.")


def _no_approvers(f: Facts) -> Worded:
    rule = f" (rule {esc(f['rule'], 80)})" if f.get("rule") else ""
    return Worded(f"This transfer needs approval, but no approvers are configured for it{rule}, so nobody could "
                  "approve it.", "Ask whoever runs the bot to name approvers (TRANSFER_APPROVERS or the policy file).")


def _bot_restarted(f: Facts, state: RequestState | None = None) -> Worded:
    if f.get("agent"):
        what = (f"The bot restarted while sending the transfer; Genesys has no record of it and "
                f"{esc(f['agent'], 120)} still has the call, so nothing was transferred.")
    elif state is S.FAILED:
        what = "The bot restarted before it sent your transfer; nothing was sent."
    else:
        what = "The bot restarted before it checked your transfer; nothing was sent."
    return Worded(what, "Ask again if it should still be transferred.")


def _internal(f: Facts) -> Worded:
    return Worded("Something went wrong inside the bot.",
                  "Check the call in Genesys before trying again, and tell whoever runs the bot.")


_WORDS: dict[Code, Callable[[Facts], Worded]] = {
    Code.BAD_CALL_REF: _bad_call_ref,
    Code.MISSING_TARGET: _missing_target,
    Code.BAD_TARGET: _bad_target,
    Code.CALL_ENDED: _call_ended,
    Code.CALL_NO_CUSTOMER: lambda f: Worded(f"That {_it(f)} has no connected customer, so I won't transfer it.",
                                            "Check the conversation id in Genesys (Interactions)."),
    Code.CALL_IN_IVR: lambda f: Worded(f"That {_it(f)} is still in the IVR; no agent holds it yet.",
                                       "Wait until an agent answers it, then try again."),
    Code.CALL_IN_QUEUE: lambda f: Worded(f"That {_it(f)} is waiting in a queue with no agent on it yet.",
                                         "Transfer it after an agent answers, or move it in Genesys."),
    Code.CALL_ALERTING: lambda f: Worded(f"That {_it(f)} is still ringing at an agent.",
                                         "Try again once the agent has answered."),
    Code.CALL_NO_AGENT: lambda f: Worded(f"No agent is connected to that {_it(f)}, so there is no one to replace.",
                                         f"Check the {_it(f)} in Genesys; it may already have been transferred."),
    Code.CALL_CONFERENCE: _call_conference,
    Code.CALL_STATE_UNKNOWN: _call_state_unknown,
    Code.CALL_CHANGED: _call_changed,
    Code.MEDIA_NOT_SUPPORTED: _media_not_supported,
    Code.NUMBER_NEEDS_VOICE: _number_needs_voice,
    Code.CONVERSATION_NOT_FOUND: _conversation_not_found,
    Code.CHAT_EMAIL_HIDDEN: _chat_email_hidden,
    Code.CHAT_USER_UNKNOWN: _chat_user_unknown,
    Code.NO_GENESYS_USER: _no_genesys_user,
    Code.NO_LIVE_CALL: _no_live_call,
    Code.SEVERAL_CALLS: _several_calls,
    Code.QUEUE_NOT_FOUND: _queue_not_found,
    Code.QUEUE_AMBIGUOUS: _queue_ambiguous,
    Code.AGENT_NOT_FOUND: _agent_not_found,
    Code.AGENT_INACTIVE: _agent_inactive,
    Code.AGENT_NO_STATION: _agent_no_station,
    Code.AGENT_ALREADY_ON_CALL: _agent_already_on_call,
    Code.NUMBERS_DISABLED: _numbers_disabled,
    Code.NUMBER_NOT_ALLOWED: _number_not_allowed,
    Code.NUMBER_INVALID: _number_invalid,
    Code.FORBIDDEN: _forbidden,
    Code.AUTH: _auth,
    Code.RATE_LIMITED: _rate_limited,
    Code.UNAVAILABLE: _unavailable,
    Code.TIMEOUT: _timeout,
    Code.REJECTED: _rejected,
    Code.UNREADABLE: _unreadable,
    Code.GENESYS_ERROR: _genesys_error,
    Code.UNCERTAIN: _uncertain,
    Code.FAILED_AFTER_ACCEPT: _failed_after_accept,
    Code.NEVER_CONFIRMED: _never_confirmed,
    Code.ALREADY_PENDING: _already_pending,
    Code.IN_PROGRESS: _in_progress,
    Code.NOT_APPROVER: _not_approver,
    Code.SELF_APPROVAL: _self_approval,
    Code.NOT_REQUESTER: _not_requester,
    Code.ALREADY_VOTED: _already_voted,
    Code.BREAK_GLASS_NOT_ALLOWED: _break_glass_not_allowed,
    Code.REQUEST_NOT_FOUND: _request_not_found,
    Code.APPROVAL_POST_FAILED: _approval_post_failed,
    Code.NO_APPROVERS: _no_approvers,
    Code.BOT_RESTARTED: _bot_restarted,
    Code.INTERNAL: _internal,
}


def word(problem: Problem, *, state: RequestState | None = None) -> Worded:
    """The problem's sentence and next step. `state` sharpens a few (e.g. restarted before checking vs sending)."""
    facts = problem.facts or {}
    if problem.code is Code.BOT_RESTARTED:
        return _bot_restarted(facts, state)
    wording = _WORDS.get(problem.code)
    if wording is None:  # a code added to the domain but not worded yet: still say something true
        return Worded(f"The transfer was stopped ({esc(problem.code.value, 60)}).",
                      "Check the call in Genesys, and tell whoever runs the bot.")
    try:
        return wording(facts)
    except (TypeError, ValueError, KeyError, AttributeError):  # malformed stored facts must not break a message
        return Worded(f"The transfer was stopped ({esc(problem.code.value, 60)}).",
                      "Check the call in Genesys before trying again.")


def problem_text(problem: Problem, *, correlation_id: str | None = None, state: RequestState | None = None) -> str:
    """Sentence, `*Next:*` step and the Genesys correlation id (the problem's, else the request's)."""
    worded = word(problem, state=state)
    lines = [worded.what]
    if worded.next:
        lines.append(f"*Next:* {worded.next}")
    cid = problem.correlation_id or correlation_id
    if cid:
        lines.append(f"Genesys correlation id: {code(cid, 100)}")
    return "\n".join(lines)


def private(text: str, *, replace_original: bool = False, fallback: str | None = None) -> dict[str, Any]:
    """An ephemeral reply body (ack, response_url) whose text is already mrkdwn."""
    return ephemeral(fallback or text, section(text), replace_original=replace_original)


def problem_reply(problem: Problem, *, heading: str = "Not transferred") -> dict[str, Any]:
    """What the requester is told privately when a request is refused before anything was stored."""
    return private(f":warning: *{esc(heading)}.* {problem_text(problem)}")


USAGE_LINE = "/transfer <conversation-id> <queue name>"
USAGE = (
    f"*Usage:* `{escape(USAGE_LINE)}`\n"
    "• *Which conversation:* its Genesys id (a UUID), a pasted interaction link, `@agent` (their live call), "
    "`me` (your own live call) or `agent:alice@example.com`.\n"
    "• *Where to:* a queue name, spaces allowed (`/transfer 3f1c2a4e-9b7d-4c1e-8f00-1234567890ab Support Tier 2`); "
    "`Billing (EMEA)` when the name exists in several divisions; a queue id; `@agent` or `agent:email`; or an "
    "outside number in international form (`+44 20 7946 0000`), where allowed.\n"
    "• Calls, chats, emails and callbacks work; an agent must be connected to it. It is blind-transferred.\n"
    "• Some transfers need a supervisor's approval; I'll tell you where to find the request. Approvers may add "
    "`--now` to skip approval in an emergency (`/transfer --now …`); it is announced.\n"
    "• `/transfer` alone opens a form with a queue picker; `/transfer help` shows this."
)


def usage(problem: Problem | None = None) -> dict[str, Any]:
    """The help text (ephemeral), after the worded problem when the command couldn't be read.

    The blocks escape `<conversation-id>`; the notification fallback keeps the usage line literal,
    since that is how people (and the end-to-end tests) recognise it.
    """
    lead = f":warning: *I couldn't read that.* {problem_text(problem)}\n\n" if problem else ""
    first = word(problem).what + "\n" if problem else ""
    return private(lead + USAGE, fallback=f"{first}Usage: {USAGE_LINE}")


def describe_call(call: str) -> str:
    """What Ask.call refers to, before anything was looked up."""
    if call == ME:
        return "your live call"
    if call.startswith(AGENT_CHAT):
        return f"{mention(call[len(AGENT_CHAT):])}'s live call"
    if call.startswith(AGENT_EMAIL):
        return f"the live call of {esc(call[len(AGENT_EMAIL):], 120)}"
    return f"call {code(short_id(call))}" if is_uuid(call) else quoted(call, 80)


def describe_target(target: str, *, show_number: bool = True) -> str:
    """What Ask.target names, before anything was looked up (numbers masked unless shown)."""
    if target.startswith(QUEUE_ID):
        return f"queue {code(short_id(target[len(QUEUE_ID):]))}"
    if target.startswith(NUMBER):
        number = target[len(NUMBER):]
        return esc(number if show_number else mask_number(number))
    if target.startswith(AGENT_CHAT):
        return mention(target[len(AGENT_CHAT):])
    if target.startswith(AGENT_EMAIL):
        return f"agent {esc(target[len(AGENT_EMAIL):], 120)}"
    return f"queue {quoted(target, 120)}"


def working_on_it(ask: Ask) -> str:
    """The instant ack: what I understood, so a typo shows before Genesys answers."""
    glass = " (break glass: no approval asked)" if ask.now else ""
    return f"Working on it{glass}: checking {describe_call(ask.call)} and {describe_target(ask.target)}…"


def store_unavailable() -> dict[str, Any]:
    """The ack when the request could not be stored: nothing was sent, and nothing will be."""
    return private(":warning: I can't take transfers right now (the bot's database is unavailable); "
                   "nothing was sent. Try again in a minute, or transfer it in Genesys directly.")


def unexpected() -> dict[str, Any]:
    """The ack when the bot failed before it could hand the request over."""
    return private(":warning: Something went wrong on the bot's side; nothing was sent. Try again, and tell "
                   "whoever runs the bot if it keeps happening.")

