"""What the service needs from Genesys Cloud, and how Genesys can fail.

Implemented by bot/genesys (the SDK adapter). Methods raise GenesysError subclasses, never SDK
or urllib3 exceptions. Ids passed in are validated UUIDs (bot.domain.parsing.is_uuid).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.domain.conversation import Conversation, GenesysUser, LiveInteraction, Media, Queue, QueueHealth
from bot.domain.target import Target


class Priority(enum.IntEnum):
    """Rate-budget priority: work that moves a transfer forward goes before background reads."""

    CRITICAL = 0
    BACKGROUND = 1


@dataclass(frozen=True)
class QueuePage:
    queues: list[Queue]
    page_count: int | None


class GenesysPort(Protocol):
    def get_conversation(self, conversation_id: str, *, priority: Priority = Priority.CRITICAL) -> Conversation:
        """GET /conversations/calls/{id}; for other media GET /conversations/{id}."""
        ...

    def list_queues(self, *, name: str | None = None, page: int = 1, page_size: int = 100) -> QueuePage:
        """One page of GET /routing/queues (name: Genesys' filter, `*` is a wildcard)."""
        ...

    def get_queue(self, queue_id: str) -> Queue:
        """GET /routing/queues/{id}."""
        ...

    def transfer(self, conversation_id: str, participant_id: str, target: Target) -> str | None:
        """The one blind-transfer POST for the target's kind. Never replayed blindly.

        Returns the ININ-Correlation-Id of the 202.
        """
        ...

    def find_user_by_email(self, email: str) -> GenesysUser | None:
        """POST /users/search, EXACT match on email; None when nobody has it."""
        ...

    def get_user(self, user_id: str) -> GenesysUser:
        """GET /users/{id}?expand=station plus GET /users/{id}/routingstatus."""
        ...

    def live_interactions(self, user_id: str) -> list[LiveInteraction]:
        """POST /analytics/conversations/activity/query: oInteracting with details for one user."""
        ...

    def queue_health(
        self, queue_ids: Sequence[str], *, priority: Priority = Priority.BACKGROUND
    ) -> dict[str, QueueHealth]:
        """POST /analytics/queues/observations/query, one batched request for all ids."""
        ...

    def estimated_wait(
        self, queue_id: str, media: Media | None = None, *, priority: Priority = Priority.BACKGROUND
    ) -> float | None:
        """GET /routing/queues/{id}/estimatedwaittime (seconds), None when Genesys gives none."""
        ...

    def check_access(self) -> None:
        """Make sure a valid token exists or can be had (readiness). Raises GenesysError."""
        ...


class GenesysError(Exception):
    """A Genesys call failed. `maybe_executed` is True when a write may have happened anyway."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        maybe_executed: bool = False,
        operation: str | None = None,
        host: str | None = None,
        cause: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message[:500]
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.maybe_executed = maybe_executed
        self.operation = operation
        self.host = host
        self.cause = cause  # e.g. "dns", "refused", "tls", "timeout", "dropped"

    def __str__(self) -> str:
        parts = [self.message]
        for name in ("operation", "status", "code", "cause", "host", "correlation_id"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value}")
        return " ".join(parts)


class GenesysAuthError(GenesysError):
    """Login failed or the token was refused twice: credentials or OAuth client are wrong."""


class GenesysForbidden(GenesysError):
    """403: the OAuth client's role lacks a permission (or the division)."""


class GenesysNotFound(GenesysError):
    """404: no such conversation/queue/user, or not visible to this OAuth client."""


class GenesysNotACall(GenesysNotFound):
    """The conversation exists but is of a media the bot can't move (e.g. co-browse)."""

    def __init__(self, message: str, *, media: str, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.media = media


class GenesysBadRequest(GenesysError):
    """400/409/422: Genesys refused the request as invalid for the current state."""


class GenesysRateLimited(GenesysError):
    """429 that outlasted the bounded retry budget."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class GenesysUnavailable(GenesysError):
    """5xx or a network failure. For a POST that may have reached Genesys, maybe_executed is set."""


class GenesysTimeout(GenesysError):
    """No complete answer within the request's deadline."""


class GenesysUnreadable(GenesysError):
    """Genesys answered something we can't read (invalid JSON, wrong shape)."""


# Which permission each operation needs, for "forbidden" messages (docs/genesys-facts.md §6).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "get_call": ("conversation:communication:view",),
    "get_conversation": ("conversation:communication:view",),
    "list_queues": ("routing:queue:view",),
    "get_queue": ("routing:queue:view",),
    "replace_queue": ("conversation:communication:blindTransferQueue", "conversation:communication:blindTransfer"),
    "replace_agent": ("conversation:communication:blindTransferAgent", "conversation:communication:blindTransfer"),
    "transfer_address": ("conversation:communication:blindTransfer",),
    "search_users": ("directory:user:view",),
    "get_user": ("directory:user:view",),
    "routing_status": ("routing:queue:view", "directory:user:view"),
    "activity_query": ("analytics:queueObservation:view",),
    "queue_observations": ("analytics:queueObservation:view",),
    "estimated_wait": ("routing:queue:view",),
}
