"""Value objects for calls, queues and transfer requests.

Pure data: no Slack, no HTTP, no SQL. Adapters translate their wire formats into these.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime


@dataclass(frozen=True)
class Participant:
    """One leg of a call, as Genesys reports it (see CallMediaParticipant)."""

    id: str
    purpose: str
    state: str
    name: str | None = None
    user_id: str | None = None
    queue_id: str | None = None
    start_time: datetime | None = None
    connected_time: datetime | None = None
    end_time: datetime | None = None
    held: bool = False

    @property
    def is_live(self) -> bool:
        return self.state == "connected" and self.end_time is None


@dataclass(frozen=True)
class RecentTransfer:
    """An entry of CallConversation.recentTransfers: Genesys' own view of a transfer command."""

    id: str | None
    state: str
    queue_id: str | None = None
    date_issued: datetime | None = None


@dataclass(frozen=True)
class Call:
    """A voice conversation. Genesys has no top-level call state: liveness comes from participants."""

    id: str
    participants: tuple[Participant, ...]
    recent_transfers: tuple[RecentTransfer, ...] = ()


@dataclass(frozen=True)
class Queue:
    id: str
    name: str
    division_id: str | None = None
    division_name: str | None = None


class RequestState(enum.StrEnum):
    """Lifecycle of a transfer request; see domain.rules.ALLOWED_TRANSITIONS."""

    PENDING = "pending"
    APPROVED = "approved"
    EXECUTING = "executing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {
        RequestState.SUCCEEDED,
        RequestState.FAILED,
        RequestState.DENIED,
        RequestState.EXPIRED,
        RequestState.CANCELLED,
        RequestState.SUPERSEDED,
    }
)
OPEN_STATES = frozenset({RequestState.PENDING, RequestState.APPROVED, RequestState.EXECUTING})


@dataclass(frozen=True)
class CallSnapshot:
    """What the call looked like when a transfer was validated; approval re-checks against it."""

    conversation_id: str
    agent_participant_id: str
    agent_name: str | None
    agent_user_id: str | None
    current_queue_id: str | None
    current_queue_name: str | None
    call_started: datetime | None


@dataclass(frozen=True)
class TransferRequest:
    """A transfer asked for in Slack (or on the command line) and everything decided about it."""

    id: str
    conversation_id: str
    queue_id: str
    queue_name: str
    requester_id: str
    state: RequestState
    created_at: datetime
    expires_at: datetime | None
    snapshot: CallSnapshot
    channel_id: str | None = None
    team_id: str | None = None
    message_channel: str | None = None
    message_ts: str | None = None
    response_url: str | None = None
    acted_by: str | None = None
    acted_at: datetime | None = None
    outcome: str | None = None
    correlation_id: str | None = None
    needs_approval: bool = False
    extra: dict = field(default_factory=dict)

    def with_state(self, state: RequestState, **changes: object) -> TransferRequest:
        return replace(self, state=state, **changes)


@dataclass(frozen=True)
class AuditEvent:
    request_id: str
    conversation_id: str
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    correlation_id: str | None = None
    detail: str | None = None
