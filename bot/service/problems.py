"""Every way a transfer can be refused or fail, as a human sentence plus what to do next.

Plain text: the Slack layer escapes it, the command line prints it.
"""

from __future__ import annotations

from bot.domain.model import Queue
from bot.domain.rules import NotTransferable, Refusal
from bot.genesys.errors import (
    GenesysAuthError,
    GenesysBadRequest,
    GenesysError,
    GenesysForbidden,
    GenesysNotFound,
    GenesysRateLimited,
    GenesysTimeout,
    GenesysUnavailable,
)


class Problem(Exception):
    """A refusal or failure with a stable code (for tests and audit) and a message for people."""

    def __init__(
        self,
        code: str,
        message: str,
        next_step: str = "",
        *,
        correlation_id: str | None = None,
        suggestions: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.next_step = next_step
        self.correlation_id = correlation_id
        self.suggestions = suggestions

    def __str__(self) -> str:
        text = self.message
        if self.next_step:
            text += f" {self.next_step}"
        if self.correlation_id:
            text += f" (Genesys correlation id: {self.correlation_id})"
        return text


_REFUSALS: dict[Refusal, tuple[str, str]] = {
    Refusal.ENDED: (
        "That call has already ended, so there is nothing to transfer.",
        "If the customer calls back, use the new conversation id.",
    ),
    Refusal.NO_CUSTOMER: (
        "That call has no connected customer, so I won't transfer it.",
        "Check the conversation id in Genesys (Interactions view).",
    ),
    Refusal.IN_IVR: (
        "That call is still in the IVR; no agent holds it yet.",
        "Wait until an agent answers it, then try again.",
    ),
    Refusal.IN_QUEUE: (
        "That call is waiting in a queue with no agent on it yet.",
        "Transfer it after an agent answers, or change the queue in Genesys.",
    ),
    Refusal.ALERTING: (
        "That call is still ringing at an agent.",
        "Try again once the agent has answered.",
    ),
    Refusal.NO_AGENT: (
        "No agent is connected to that call, so there is no one to replace.",
        "Check the call in Genesys; it may already have been transferred.",
    ),
    Refusal.CONFERENCE: (
        "That call is a conference with several agents connected; a blind transfer would be ambiguous.",
        "Have all but one agent leave the call, or transfer it from Genesys directly.",
    ),
}


def refused(verdict: NotTransferable) -> Problem:
    message, next_step = _REFUSALS[verdict.reason]
    if verdict.detail:
        message = f"{message.rstrip('.')} ({verdict.detail})."
    return Problem(f"call_{verdict.reason.value}", message, next_step)


def queue_not_found(name: str, suggestions: list[str]) -> Problem:
    if suggestions:
        listed = ", ".join(suggestions)
        return Problem(
            "queue_not_found",
            f"I couldn't find a queue named “{name}”. Did you mean: {listed}?",
            "Run the command again with the exact queue name.",
            suggestions=tuple(suggestions),
        )
    return Problem(
        "queue_not_found",
        f"I couldn't find a queue named “{name}”, and nothing close to it.",
        "Check the name in Genesys (Admin → Queues); the bot's OAuth client must be able to see its division.",
    )


def queue_ambiguous(name: str, queues: list[Queue]) -> Problem:
    listed = "; ".join(f"{q.name} in division {q.division_name or q.division_id or '?'}" for q in queues)
    return Problem(
        "queue_ambiguous",
        f"“{name}” matches {len(queues)} queues in different divisions: {listed}. Nothing was transferred.",
        "Ask a Genesys admin to give the queues distinct names, or transfer from Genesys directly.",
    )


def from_genesys(error: GenesysError, *, during: str) -> Problem:
    """`during` says what we were doing, e.g. "reading the call" or "sending the transfer"."""
    cid = error.correlation_id
    if isinstance(error, GenesysNotFound):
        if error.code == "not.a.call":
            return Problem(
                "not_a_call",
                f"That conversation is not a voice call ({error.message}); I only transfer calls.",
                "Transfer digital interactions from Genesys directly.",
                correlation_id=cid,
            )
        return Problem(
            "not_found",
            f"Genesys found nothing for that id while {during}.",
            "Check the conversation id; the bot's OAuth client must also be allowed to see the call's division.",
            correlation_id=cid,
        )
    if isinstance(error, GenesysForbidden):
        return Problem(
            "forbidden",
            f"Genesys refused permission while {during}: {error.message}",
            "Ask a Genesys admin to give the bot's OAuth client a role with "
            "conversation:communication:blindTransferQueue and routing:queue:view in the right divisions.",
            correlation_id=cid,
        )
    if isinstance(error, GenesysAuthError):
        return Problem(
            "auth",
            "Genesys rejected the bot's credentials.",
            "Ask whoever runs the bot to check GENESYS_CLOUD_CLIENT_ID/SECRET and the region.",
            correlation_id=cid,
        )
    if isinstance(error, GenesysRateLimited):
        return Problem(
            "rate_limited",
            f"Genesys is rate-limiting the bot right now, so I stopped while {during}.",
            "Nothing was transferred. Try again in a minute.",
            correlation_id=cid,
        )
    if isinstance(error, GenesysTimeout | GenesysUnavailable):
        if error.maybe_executed:
            return Problem(
                "uncertain",
                f"Genesys did not confirm the transfer ({error.message}); it may or may not have happened.",
                "Check the call in Genesys before trying again; I did not resend it.",
                correlation_id=cid,
            )
        word = "did not answer in time" if isinstance(error, GenesysTimeout) else "is unavailable"
        return Problem(
            "unavailable",
            f"Genesys {word} while {during}.",
            "Nothing was transferred. Try again shortly; if it persists, check status.mypurecloud.com.",
            correlation_id=cid,
        )
    if isinstance(error, GenesysBadRequest):
        return Problem(
            "rejected",
            f"Genesys rejected the request while {during}: {error.message}",
            "The call may have changed; check it in Genesys.",
            correlation_id=cid,
        )
    return Problem(
        "genesys_error",
        f"Genesys returned an error while {during}: {error.message}",
        "Try again; if it persists, give the correlation id to support.",
        correlation_id=cid,
    )
