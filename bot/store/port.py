"""Durable storage of transfer requests and their audit trail.

Every state change is a compare-and-set: it happens only if the row is still in one of the
expected states, so double clicks and several bot replicas cannot both win.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from bot.domain.model import AuditEvent, RequestState, TransferRequest


class ConversationBusy(Exception):
    """Another open request (pending/approved/executing) already exists for this conversation."""

    def __init__(self, existing: TransferRequest | None) -> None:
        super().__init__("another open transfer request exists for this conversation")
        self.existing = existing


class RequestStore(Protocol):
    def add(self, request: TransferRequest, *, actor: str) -> None:
        """Insert a new request and its first audit event.

        Raises ConversationBusy if an open request exists for the same conversation.
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
        correlation_id: str | None = None,
        outcome: str | None = None,
        detail: str | None = None,
        record_actor: bool = True,
    ) -> TransferRequest | None:
        """Move the request to new_state if it is currently in one of `expected`.

        Returns the updated request, or None if another actor got there first (or it is missing).
        Writes one audit event in the same transaction. When record_actor is True the request's
        acted_by/acted_at are set to actor/at.
        """
        ...

    def set_message(self, request_id: str, channel: str, ts: str) -> None:
        """Remember where the approval message lives, so every ending can update it in place."""
        ...

    def due_for_expiry(self, now: datetime, limit: int = 100) -> list[TransferRequest]:
        """Pending requests whose expires_at is at or before now."""
        ...

    def stuck(
        self, states: Iterable[RequestState], updated_before: datetime, limit: int = 100
    ) -> list[TransferRequest]:
        """Requests still in one of `states` whose last change is older than `updated_before`."""
        ...

    def open_for_conversation(self, conversation_id: str) -> TransferRequest | None: ...

    def audit_since(self, since: datetime) -> list[AuditEvent]: ...

    def close(self) -> None: ...
