"""Transfer requests, their states and their audit trail.

Every transfer — direct, approved, from Slack or the command line — is one stored request,
moved between states by compare-and-set. That is what makes "exactly once" hold across double
clicks, restarts and replicas.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.conversation import Media, QueueHealth
from bot.domain.problems import Problem
from bot.domain.target import Target


class RequestState(enum.StrEnum):
    RECEIVED = "received"  # stored before the ack; nothing checked, nothing sent
    PENDING = "pending"  # validated, waiting for approval(s)
    APPROVED = "approved"  # may be sent; not sent yet
    EXECUTING = "executing"  # the POST is about to go out or is in flight
    ACCEPTED = "accepted"  # Genesys answered 202; waiting for it to confirm
    SUCCEEDED = "succeeded"  # Genesys confirmed the transfer
    FAILED = "failed"  # not transferred (known)
    UNCERTAIN = "uncertain"  # may or may not have happened; never resent
    REFUSED = "refused"  # failed validation; nothing sent
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # the call changed before the approval

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATES


S = RequestState
FINAL_STATES = frozenset(
    {S.SUCCEEDED, S.FAILED, S.UNCERTAIN, S.REFUSED, S.DENIED, S.EXPIRED, S.CANCELLED, S.SUPERSEDED}
)
# At most one request per conversation may be in these states (a unique partial index).
OPEN_STATES = frozenset({S.PENDING, S.APPROVED, S.EXECUTING, S.ACCEPTED})
# States a live process works on; a process that dies leaves them to recovery (see leases).
WORK_STATES = frozenset({S.RECEIVED, S.APPROVED, S.EXECUTING})

ALLOWED_TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.RECEIVED: frozenset({S.PENDING, S.APPROVED, S.REFUSED}),
    S.PENDING: frozenset({S.APPROVED, S.DENIED, S.EXPIRED, S.CANCELLED, S.SUPERSEDED}),
    S.APPROVED: frozenset({S.EXECUTING, S.SUPERSEDED, S.FAILED}),
    S.EXECUTING: frozenset({S.ACCEPTED, S.SUCCEEDED, S.FAILED, S.UNCERTAIN}),
    S.ACCEPTED: frozenset({S.SUCCEEDED, S.FAILED, S.UNCERTAIN}),
    **{final: frozenset() for final in FINAL_STATES},
}


def is_allowed_transition(old: RequestState, new: RequestState) -> bool:
    return new in ALLOWED_TRANSITIONS[old]


class Via(enum.StrEnum):
    """The surface a request came through; the values are the audit export's `via` column."""

    CHAT = "slack"  # a stored value: it names the chat product in the audit export (slack | cli)
    CLI = "cli"


@dataclass(frozen=True)
class Ask:
    """What the requester typed or picked, before anything was looked up."""

    call: str  # conversation id, "me", "agent-chat:U123" or "agent-email:alice@example.com"
    target: str  # the target text: queue name, "queue-id:…", "agent-chat:U…", "agent-email:…", "+1…"
    now: bool = False  # /transfer --now (break glass)


@dataclass(frozen=True)
class Snapshot:
    """The conversation as it was when the request was validated; approval re-checks against it."""

    conversation_id: str
    media: Media
    agent_participant_id: str
    agent_name: str | None = None
    agent_user_id: str | None = None
    queue_at_request_id: str | None = None
    queue_at_request_name: str | None = None
    started: datetime | None = None
    target_health: QueueHealth | None = None
    target_routing_status: str | None = None


@dataclass(frozen=True)
class Vote:
    approver: str
    at: datetime


@dataclass(frozen=True)
class TransferRequest:
    id: str
    requester_id: str
    state: RequestState
    created_at: datetime
    ask: Ask
    via: Via = Via.CHAT
    conversation_id: str | None = None
    target: Target | None = None
    snapshot: Snapshot | None = None
    origin: str | None = None  # opaque: where it was asked (the chat layer encodes it)
    message_ref: str | None = None  # opaque: where its message lives
    needs_approval: bool = False
    approvals_required: int = 1
    approvers: tuple[str, ...] = ()  # who may approve (user and group ids), fixed at validation
    votes: tuple[Vote, ...] = ()
    break_glass: bool = False
    simulated: bool = False
    expires_at: datetime | None = None
    acted_by: str | None = None
    acted_at: datetime | None = None
    problem: Problem | None = None
    correlation_id: str | None = None
    sent_at: datetime | None = None
    transfer_id: str | None = None  # the recentTransfers entry we matched
    confirm_deadline: datetime | None = None
    next_check_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1

    @property
    def media(self) -> Media | None:
        return self.snapshot.media if self.snapshot else None

    @property
    def direct(self) -> bool:
        return not self.needs_approval

    def with_state(self, state: RequestState, **changes: object) -> TransferRequest:
        return replace(self, state=state, **changes)


class AuditKind(enum.StrEnum):
    STATE = "state"  # a state change
    VOTE = "vote"  # one approval of several
    CLICK_REFUSED = "click_refused"  # an unauthorised click; nothing changed
    NOTICE = "notice"  # something worth recording that changed nothing (e.g. break-glass notice)


@dataclass(frozen=True)
class AuditEvent:
    request_id: str
    at: datetime
    kind: AuditKind
    actor: str
    from_state: str | None = None
    to_state: str | None = None
    conversation_id: str | None = None
    media: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    target_name: str | None = None
    correlation_id: str | None = None
    reason: str | None = None
    via: str | None = None
    direct: bool | None = None
    break_glass: bool | None = None
    simulated: bool | None = None


AUDIT_COLUMNS: tuple[str, ...] = (
    "at", "request_id", "kind", "from_state", "to_state", "actor", "conversation_id", "media",
    "target_kind", "target_id", "target_name", "correlation_id", "reason", "via", "direct",
    "break_glass", "simulated",
)
