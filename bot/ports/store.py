"""Durable state the service needs: requests, votes, leases, audit, a shared rate budget.

Every state change is a compare-and-set: it happens only if the row is still in one of the
expected states, so double clicks and several replicas cannot both win. Implemented on SQL
(SQLite for one process, PostgreSQL for replicas) in bot/store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from bot.domain.request import AuditEvent, RequestState, TransferRequest


class ConversationBusy(Exception):
    """Another open request (pending/approved/executing/accepted) exists for this conversation."""

    def __init__(self, existing: TransferRequest | None) -> None:
        super().__init__("another open transfer request exists for this conversation")
        self.existing = existing


class StoreUnavailable(Exception):
    """The database could not be reached or answered with an error; nothing was changed."""


# Fields transition()/update() may set besides the state (TransferRequest attribute names).
CHANGEABLE = frozenset(
    {
        "conversation_id", "target", "snapshot", "needs_approval", "approvals_required", "approvers",
        "break_glass", "expires_at", "problem", "correlation_id", "sent_at", "transfer_id",
        "confirm_deadline", "next_check_at", "message_ref",
    }
)


class RequestStore(Protocol):
    def add(self, request: TransferRequest, *, actor: str, lease_owner: str | None = None,
            lease_until: datetime | None = None) -> TransferRequest:
        """Insert a new request (with its first audit event, and a lease when given).

        Raises ConversationBusy if it is open and another open request has the same conversation.
        """
        ...

    def get(self, request_id: str) -> TransferRequest | None: ...

    def transition(
        self,
        request_id: str,
        expected: Iterable[RequestState],
        new_state: RequestState,
        *,
        actor: str,
        at: datetime,
        changes: Mapping[str, Any] | None = None,
        reason: str | None = None,
        record_actor: bool = True,
        lease: tuple[str, datetime] | None = None,
    ) -> TransferRequest | None:
        """Move to new_state if the state is one of `expected`, setting `changes` (CHANGEABLE) too.

        lease=(owner, until) takes the request's lease in the same statement: work that moves a
        request into a work state must hold it, or recovery could take it over mid-flight.

        Returns the updated request, or None if another actor got there first. Writes one audit
        event in the same transaction and bumps `version`. Raises ConversationBusy when the new
        state is open and another open request holds the conversation (nothing is changed).
        When record_actor is True, acted_by/acted_at are set to actor/at.
        """
        ...

    def update(self, request_id: str, expected: Iterable[RequestState], changes: Mapping[str, Any]) -> bool:
        """Set CHANGEABLE fields without a state change (bumps version, no audit event)."""
        ...

    def set_message_ref(self, request_id: str, ref: str) -> bool:
        """Record where the request's message lives, only if none is recorded yet (bumps version)."""
        ...

    def add_vote(self, request_id: str, approver: str, at: datetime) -> bool:
        """Record one approval; False if this approver already voted. Audited; bumps version."""
        ...

    def record(self, event: AuditEvent) -> None:
        """An audit event that changes no state (a refused click, a break-glass notice)."""
        ...

    # ---- work for the sweeper ------------------------------------------------------------
    def due_for_expiry(self, now: datetime, limit: int = 100) -> list[TransferRequest]: ...

    def claim_abandoned(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 50
    ) -> list[TransferRequest]:
        """Take over requests in WORK_STATES whose lease ran out (their process died or left)."""
        ...

    def claim_due_checks(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 50
    ) -> list[TransferRequest]:
        """Take ACCEPTED requests whose next_check_at has come and whose lease is free."""
        ...

    def renew_leases(self, owner: str, until: datetime) -> int:
        """Extend every lease this process holds on a request that is still being worked on."""
        ...

    def release(self, request_id: str, owner: str, *, at: datetime | None = None) -> None:
        """Give the lease back (at=now hands it to another replica at once)."""
        ...

    def release_all(self, owner: str, at: datetime) -> int: ...

    # ---- reading -------------------------------------------------------------------------
    def open_for_conversation(self, conversation_id: str) -> TransferRequest | None: ...

    def pending(self, limit: int = 500) -> list[TransferRequest]: ...

    def recent_finished(self, limit: int = 20) -> list[TransferRequest]: ...

    def for_requester(self, requester_id: str, limit: int = 20) -> list[TransferRequest]: ...

    def count_by_state(self) -> dict[RequestState, int]: ...

    def audit_since(self, since: datetime) -> list[AuditEvent]: ...

    def purge_finished_before(self, cutoff: datetime, batch: int = 500) -> int:
        """Delete one batch of final requests last changed before cutoff, with their audit rows."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        ...

    def close(self) -> None: ...


class ReplayGuard(Protocol):
    def first_time(self, key: str, expires_at: datetime) -> bool:
        """True the first time `key` is seen (shared across replicas); False for a replay."""
        ...

    def purge(self, now: datetime) -> int: ...


class RateBudget(Protocol):
    def take(self, key: str, *, rate_per_second: float, burst: float, now: float) -> float:
        """Take one token from the shared bucket `key`: 0.0 if granted, else seconds to wait."""
        ...
